import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import type { PasskeyAssertion, PasskeyAttestation } from '../passkeys/passkeys.service';

const NAME = { minLength: 1, maxLength: 64, example: 'Laptop (Touch ID)' };

export class PasskeyNameDto {
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  @Matches(/^\P{Cc}+$/u, { message: 'name must be printable text' })
  @ApiProperty(NAME)
  name!: string;
}

export class RegisterPasskeyDto extends PasskeyNameDto {
  /** What `navigator.credentials.create()` gave, as @simplewebauthn/browser's startRegistration returns it. */
  @IsObject()
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      "The RegistrationResponseJSON of `navigator.credentials.create()` for the options of `POST /auth/passkeys/registration-options` (@simplewebauthn/browser's `startRegistration`)",
  })
  response!: PasskeyAttestation;
}

/** An assertion of `navigator.credentials.get()`, as @simplewebauthn/browser's startAuthentication returns it. */
export class PasskeyAssertionField {
  @IsObject()
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      "The AuthenticationResponseJSON of `navigator.credentials.get()` (@simplewebauthn/browser's `startAuthentication`)",
  })
  passkey!: PasskeyAssertion;
}

export class PasskeyOptionsDto {
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{43}$/, { message: 'mfa_token must be the one /auth/login answered' })
  @ApiPropertyOptional({
    pattern: '^[A-Za-z0-9_-]{43}$',
    description:
      "As a second factor: the `mfa_token` of the password step (the options then name the user's passkeys). Without it: a passwordless sign-in.",
  })
  mfa_token?: string;
}
