import { Transform } from 'class-transformer';
import { ValidateIf } from 'class-validator';
import { IsText } from '@tessera/platform';

export class CreateNoteDto {
  // Trimmed before it is checked, so a title of spaces is empty; the body is kept as sent
  // (leading spaces can be indentation).
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsText({ min: 1, max: 200 })
  title!: string;

  // Not @IsOptional(): it lets null through too, and null cannot be stored. Absent means ''.
  @ValidateIf((_note: CreateNoteDto, value: unknown) => value !== undefined)
  @IsText({ min: 0, max: 10_000 })
  body?: string;
}
