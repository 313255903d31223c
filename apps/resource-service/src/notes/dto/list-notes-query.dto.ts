import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class ListNotesQueryDto {
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(100, { message: 'limit must be at most 100' })
  limit = 20;

  /** The nextCursor of the previous page; NotesService decodes and checks it. */
  @IsOptional()
  @IsString({ message: 'cursor must be given once' })
  @MaxLength(200, { message: 'cursor must be at most 200 characters long' })
  cursor?: string;

  /** Every owner's notes: admins only. */
  @Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  )
  @IsBoolean({ message: 'all must be true or false' })
  all = false;
}
