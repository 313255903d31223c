import type { FastifyReply } from 'fastify';

/** The body of every response that carries tokens (RFC 6749 section 5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  scope: string;
  /** OpenID Connect: when the login asked for `openid`. For the client to read, never to send. */
  id_token?: string;
}

/** Tokens must never be stored by a browser or proxy cache (RFC 6749 section 5.1, I2). */
export function noStore(reply: FastifyReply): void {
  reply.header('cache-control', 'no-store');
  reply.header('pragma', 'no-cache');
}
