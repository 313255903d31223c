import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

/** The body of every response that carries tokens (RFC 6749 section 5.1). */
export class TokenResponse {
  @ApiProperty({ description: 'A JWT for the resource services: send it as `Bearer`' })
  access_token!: string;

  @ApiProperty({ enum: ['Bearer'] })
  token_type!: 'Bearer';

  @ApiProperty({ description: 'Seconds the access token lives', example: 900 })
  expires_in!: number;

  @ApiPropertyOptional({
    description:
      'Trade it at `POST /auth/refresh`; absent with REFRESH_TOKEN_COOKIE (an HttpOnly cookie instead)',
  })
  refresh_token?: string;

  @ApiProperty({
    description: 'The granted scopes, space-separated',
    example: 'notes:read notes:write',
  })
  scope!: string;

  /** OpenID Connect: when the login asked for `openid`. For the client to read, never to send. */
  @ApiPropertyOptional({ description: 'OpenID Connect: when the login asked for `openid`' })
  id_token?: string;
}

/** Tokens must never be stored by a browser or proxy cache (RFC 6749 section 5.1, I2). */
export function noStore(reply: FastifyReply): void {
  reply.header('cache-control', 'no-store');
  reply.header('pragma', 'no-cache');
}
