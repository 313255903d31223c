import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class ChangePasswordDto {
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  @ApiProperty({ minLength: 1, maxLength: 1024, format: 'password' })
  current_password!: string;

  // The password policy gives the precise message; this only bounds the input.
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  @ApiProperty({
    minLength: 1,
    maxLength: 1024,
    format: 'password',
    description: 'Must meet the password policy',
  })
  new_password!: string;
}
