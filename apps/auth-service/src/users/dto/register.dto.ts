import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, MaxLength } from 'class-validator';
import { normaliseEmail } from '../normalise-email';

export class RegisterDto {
  // Normalised before validation, so " Ada@Example.com " is the same account as "ada@example.com".
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? normaliseEmail(value) : value,
  )
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254, { message: 'email must be at most 254 characters long' })
  @ApiProperty({
    format: 'email',
    maxLength: 254,
    example: 'ada@example.com',
    description: 'Trimmed and lower-cased',
  })
  email!: string;

  // Only the type here: the password policy gives the precise, actionable message.
  @IsString({ message: 'password must be a string' })
  @ApiProperty({
    format: 'password',
    example: 'correct horse battery staple',
    description: 'The password policy applies (length, not a common password)',
  })
  password!: string;
}
