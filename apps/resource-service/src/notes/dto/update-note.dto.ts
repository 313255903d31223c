import { ApiPropertyOptional } from '@nestjs/swagger';
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
  @ApiPropertyOptional({ minLength: 1, maxLength: 200, description: 'Trimmed; not null' })
  title?: string;

  @ValidateIf((_note: UpdateNoteDto, value: unknown) => value !== undefined)
  @IsText({ min: 0, max: 10_000 })
  @ApiPropertyOptional({ maxLength: 10_000, description: 'Not null' })
  body?: string;
}
