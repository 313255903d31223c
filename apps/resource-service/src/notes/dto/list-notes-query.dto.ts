import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class ListNotesQueryDto {
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(100, { message: 'limit must be at most 100' })
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 20 })
  limit = 20;

  /** The nextCursor of the previous page; NotesService decodes and checks it. */
  @IsOptional()
  @IsString({ message: 'cursor must be given once' })
  @MaxLength(200, { message: 'cursor must be at most 200 characters long' })
  @ApiPropertyOptional({ maxLength: 200, description: 'The `nextCursor` of the previous page' })
  cursor?: string;

  /** Every owner's notes: admins only. */
  @Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  )
  @IsBoolean({ message: 'all must be true or false' })
  @ApiPropertyOptional({
    type: Boolean,
    default: false,
    description: "Every owner's notes: the `admin` role only",
  })
  all = false;
}
