import { Transform } from 'class-transformer';
import { ValidateIf } from 'class-validator';
import { IsText } from '@tessera/platform';

/**
 * The fields to change, with CreateNoteDto's rules; at least one (NotesService refuses `{}`).
 * Not PartialType(CreateNoteDto): that makes fields @IsOptional(), which lets `null` through.
 */
export class UpdateNoteDto {
  @ValidateIf((_note: UpdateNoteDto, value: unknown) => value !== undefined)
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsText({ min: 1, max: 200 })
  title?: string;

  @ValidateIf((_note: UpdateNoteDto, value: unknown) => value !== undefined)
  @IsText({ min: 0, max: 10_000 })
  body?: string;
}
