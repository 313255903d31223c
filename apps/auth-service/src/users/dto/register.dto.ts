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
  email!: string;

  // Only the type here: the password policy gives the precise, actionable message.
  @IsString({ message: 'password must be a string' })
  password!: string;
}
