import { ApiProperty } from '@nestjs/swagger';

export class MfaStatusResponse {
  @ApiProperty({ description: 'An authenticator app (TOTP) is enrolled and confirmed' })
  totp!: boolean;

  @ApiProperty({ description: 'Unspent recovery codes', example: 10 })
  recovery_codes_left!: number;

  @ApiProperty({ description: 'Registered passkeys', example: 1 })
  passkeys!: number;
}

export class TotpEnrolmentResponse {
  @ApiProperty({
    description: 'For the authenticator app',
    example:
      'otpauth://totp/Tessera:ada%40example.com?issuer=Tessera&secret=…&algorithm=SHA1&digits=6&period=30',
  })
  otpauth_uri!: string;

  @ApiProperty({ description: 'The same URI as a QR code: an SVG `data:` URL for an `<img src>`' })
  qr_code!: string;

  @ApiProperty({ description: 'The secret in base32, to type in by hand' })
  secret!: string;
}

export class RecoveryCodesResponse {
  @ApiProperty({
    type: [String],
    description:
      'Shown this once: each works once in place of a second factor. Empty when confirming a second factor kept the codes the account had.',
    example: ['7k2m-9xq4-h8td'],
  })
  recovery_codes!: string[];
}

export class PasskeyResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'Laptop (Touch ID)' })
  name!: string;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  last_used_at!: string | null;
}

export class RegisteredPasskeyResponse extends PasskeyResponse {
  @ApiProperty({
    type: [String],
    description:
      "Shown this once, when the passkey is the account's first second factor; else empty (the codes it has stay valid)",
  })
  recovery_codes!: string[];
}

export class PasskeyListResponse {
  @ApiProperty({ type: [PasskeyResponse] })
  passkeys!: PasskeyResponse[];
}

/** WebAuthn options for the browser, as @simplewebauthn/browser takes them. */
export const WEBAUTHN_OPTIONS_SCHEMA = {
  type: 'object' as const,
  additionalProperties: true,
  required: ['challenge'],
  properties: {
    challenge: { type: 'string' as const, description: 'base64url; single-use, 120 s' },
  },
};
