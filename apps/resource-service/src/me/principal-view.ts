import { ApiProperty } from '@nestjs/swagger';
import type { Principal } from '@tessera/auth-token';

/** Principal of `@tessera/auth-token`, as `GET /me` answers it. */
export class PrincipalView implements Principal {
  @ApiProperty({ description: '`sub`: a user id, or the client id of a service token' })
  subject!: string;

  @ApiProperty({ description: '`iss`, byte for byte', example: 'http://127.0.0.1:3001' })
  issuer!: string;

  @ApiProperty({ description: '`client_id`: the OAuth client the token was issued to' })
  clientId!: string;

  @ApiProperty({
    type: [String],
    description: '`aud`: the services the token is for',
    example: ['resource-service'],
  })
  audiences!: string[];

  @ApiProperty({ type: [String], example: ['notes:read', 'notes:write'] })
  scopes!: string[];

  @ApiProperty({ type: [String], example: [] })
  roles!: string[];

  @ApiProperty({
    type: String,
    required: false,
    description: '`sid`: the session of a user token; absent for a service token',
  })
  sessionId!: string | undefined;

  @ApiProperty({ enum: ['user', 'service'] })
  kind!: 'user' | 'service';

  @ApiProperty({ description: '`iat`, epoch seconds' })
  issuedAt!: number;

  @ApiProperty({ description: '`exp`, epoch seconds' })
  expiresAt!: number;

  @ApiProperty({
    type: Number,
    required: false,
    description: '`auth_time`, epoch seconds: when the user signed in; absent for a service token',
  })
  authTime!: number | undefined;

  @ApiProperty({
    type: String,
    required: false,
    description: '`acr`: `urn:tessera:acr:mfa` after a second factor, else `urn:tessera:acr:sfa`',
  })
  acr!: string | undefined;

  @ApiProperty({
    type: [String],
    description: '`amr` (RFC 8176): how the user signed in',
    example: ['pwd', 'otp', 'mfa'],
  })
  amr!: string[];
  @ApiProperty({
    description: '`email_verified`: true only when the token says the address is verified',
  })
  emailVerified!: boolean;
}
