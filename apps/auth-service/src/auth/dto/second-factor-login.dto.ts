import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import type { PasskeyAssertion } from '../../mfa/passkeys/passkeys.service';
import { LoginDto } from './login.dto';

const PASSKEY_DESCRIPTION =
  "The AuthenticationResponseJSON of `navigator.credentials.get()` for the options of `POST /auth/login/passkey-options` (@simplewebauthn/browser's `startAuthentication`)";

/** The second step of a sign-in: the `mfa_token` and exactly one second factor. */
export class SecondFactorLoginDto {
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{43}$/, { message: 'mfa_token must be the one /auth/login answered' })
  @ApiProperty({
    pattern: '^[A-Za-z0-9_-]{43}$',
    description: 'From the 403 `mfa_required` of `POST /auth/login`',
  })
  mfa_token!: string;

  @IsOptional()
  @IsString()
  @Matches(/^\d{6}$/, { message: 'code must be the six digits the authenticator app shows' })
  @ApiPropertyOptional({ pattern: '^\\d{6}$', description: 'A TOTP code', example: '492039' })
  code?: string;

  @IsOptional()
  @IsString()
  @MaxLength(32)
  @ApiPropertyOptional({
    maxLength: 32,
    description: 'One of the recovery codes',
    example: '7k2m-9xq4-h8td',
  })
  recovery_code?: string;

  @IsOptional()
  @IsObject()
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: PASSKEY_DESCRIPTION,
  })
  passkey?: PasskeyAssertion;
}

/** A passwordless sign-in: a passkey, and what the tokens are for (as in `POST /auth/login`). */
export class PasskeyLoginDto extends OmitType(LoginDto, ['email', 'password'] as const) {
  @IsObject()
  @ApiProperty({ type: 'object', additionalProperties: true, description: PASSKEY_DESCRIPTION })
  passkey!: PasskeyAssertion;
}
