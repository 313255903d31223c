import { IsString, MaxLength, MinLength } from 'class-validator';

export class ChangePasswordDto {
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  current_password!: string;

  // The password policy gives the precise message; this only bounds the input.
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  new_password!: string;
}
