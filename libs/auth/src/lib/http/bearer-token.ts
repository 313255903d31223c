import type { FastifyRequest } from 'fastify';
import { ambiguousBearerToken, invalidBearerToken } from './bearer-challenge';

/** `Bearer <b64token>` (RFC 6750 §2.1), the scheme in any casing (R6). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const BEARER_SCHEME = /^Bearer(?: |$)/i;

/**
 * The access token of a request, from the Authorization header only; undefined when there is
 * none. A token in the query string is never used (R4: it ends up in logs and browser history),
 * but one sent there as well as in the header is refused with 400, as is a repeated header (R5).
 * A Bearer header that is not one well-formed token (`Bearer`, `Bearer a b`) is an invalid token.
 *
 * @throws BadRequestException (`invalid_request`) or UnauthorizedException (`invalid_token`).
 */
export function bearerTokenOf(request: FastifyRequest): string | undefined {
  const headers = request.raw.headersDistinct?.['authorization'] ?? [];
  if (headers.length > 1) throw ambiguousBearerToken();
  const header = headers[0] ?? request.headers.authorization;
  if (header === undefined || !BEARER_SCHEME.test(header)) return undefined;
  const token = BEARER.exec(header)?.[1];
  if (!token) throw invalidBearerToken();
  if (hasQueryToken(request)) throw ambiguousBearerToken();
  return token;
}

function hasQueryToken(request: FastifyRequest): boolean {
  const query = request.query;
  return typeof query === 'object' && query !== null && Object.hasOwn(query, 'access_token');
}
