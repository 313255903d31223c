import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { normaliseEmail } from '../../users/normalise-email';

const toEmail = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? normaliseEmail(value) : value;

/** A mailed link's token: 43 base64url characters (checked again before any lookup). */
const TOKEN = {
  maxLength: 128,
  example: 'mF3x…',
  description: 'The `token` of the link',
};

export class EmailDto {
  @Transform(toEmail)
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254, { message: 'email must be at most 254 characters long' })
  @ApiProperty({ format: 'email', maxLength: 254, example: 'ada@example.com' })
  email!: string;
}

/** Either the link's `token`, or the `email` with the six-digit `code` from the same mail. */
export class VerifyEmailDto {
  @ValidateIf((body: VerifyEmailDto) => body.code === undefined || body.token !== undefined)
  @IsString({ message: 'token must be a string (or send email and code)' })
  @MaxLength(TOKEN.maxLength)
  @ApiPropertyOptional(TOKEN)
  token?: string;

  @ValidateIf((body: VerifyEmailDto) => body.token === undefined)
  @Transform(toEmail)
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  @ApiPropertyOptional({ format: 'email', maxLength: 254, description: 'With `code`' })
  email?: string;

  @ValidateIf((body: VerifyEmailDto) => body.token === undefined)
  @Matches(/^\d{6}$/, { message: 'code must be the six digits from the mail' })
  @ApiPropertyOptional({ pattern: '^\\d{6}$', example: '042917', description: 'With `email`' })
  code?: string;
}

export class AccountTokenDto {
  @IsString({ message: 'token must be a string' })
  @MinLength(1)
  @MaxLength(TOKEN.maxLength)
  @ApiProperty({ ...TOKEN, minLength: 1 })
  token!: string;
}

export class ResetPasswordDto extends AccountTokenDto {
  // The password policy gives the precise message; this only bounds the input.
  @IsString({ message: 'new_password must be a string' })
  @MinLength(1)
  @MaxLength(1024)
  @ApiProperty({
    format: 'password',
    minLength: 1,
    maxLength: 1024,
    description: 'Must meet the password policy',
  })
  new_password!: string;
}

export class ChangeEmailDto {
  @Transform(toEmail)
  @IsEmail({}, { message: 'new_email must be an email address' })
  @MaxLength(254, { message: 'new_email must be at most 254 characters long' })
  @ApiProperty({ format: 'email', maxLength: 254, example: 'ada@new.example.com' })
  new_email!: string;

  @IsString({ message: 'password must be a string' })
  @MinLength(1)
  @MaxLength(1024)
  @ApiProperty({
    format: 'password',
    minLength: 1,
    maxLength: 1024,
    description: 'The current password',
  })
  password!: string;
}

/** The same answer for every address: whether a mail went out is not said. */
export class AcceptedResponse {
  @ApiProperty({
    example: 'If an account has this address, a mail is on its way',
  })
  message!: string;
}

export class AccountEmailResponse {
  @ApiProperty({ format: 'email' })
  email!: string;

  @ApiProperty()
  email_verified!: boolean;
}
