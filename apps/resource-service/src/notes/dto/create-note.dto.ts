import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ValidateIf } from 'class-validator';
import { IsText } from '@tessera/platform';

export class CreateNoteDto {
  // Trimmed before it is checked, so a title of spaces is empty; the body is kept as sent
  // (leading spaces can be indentation).
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsText({ min: 1, max: 200 })
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'my first note', description: 'Trimmed' })
  title!: string;

  // Not @IsOptional(): it lets null through too, and null cannot be stored. Absent means ''.
  @ValidateIf((_note: CreateNoteDto, value: unknown) => value !== undefined)
  @IsText({ min: 0, max: 10_000 })
  @ApiPropertyOptional({ maxLength: 10_000, default: '', example: 'remember the milk' })
  body?: string;
}
