import type { FastifyRequest } from 'fastify';
import { ambiguousBearerToken, invalidBearerToken } from './bearer-challenge';

/** The `Bearer` scheme (RFC 6750 §2.1) in any casing (R6), with the spaces after it. */
const BEARER_SCHEME = /^Bearer(?: +|$)/i;
/** b64token: one token, no spaces inside. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const SPACE = 0x20;

/**
 * The access token of a request, from the Authorization header only; undefined when there is
 * none. A token in the query string is never used (R4: it ends up in logs and browser history),
 * but one sent there as well as in the header is refused with 400, as is a repeated header (R5).
 * A Bearer header that is not one well-formed token (`Bearer`, `Bearer a b`) is an invalid token.
 *
 * @throws BadRequestException (`invalid_request`) or UnauthorizedException (`invalid_token`).
 */
export function bearerTokenOf(request: FastifyRequest): string | undefined {
  const token = unvalidatedBearerTokenOf(request);
  if (token !== undefined) assertWellFormed(token);
  return token;
}

/**
 * {@link bearerTokenOf} but for the token's syntax, which the caller checks unless it knows the
 * exact string already (the guard's cache holds only tokens that were verified, so a hit was well
 * formed) or hands it to the verifier, whose first check reads it (readCompactJws): the one check
 * that reads every character.
 * A second Authorization header, or a token in the query string as well, is refused all the same.
 */
export function unvalidatedBearerTokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const schemeLength = header === undefined ? -1 : bearerSchemeLength(header);
  if (header === undefined || schemeLength < 0) return undefined;
  // Node keeps only the first of repeated Authorization headers; the raw list shows them all.
  if (authorizationHeaderCount(request.raw.rawHeaders) > 1) throw ambiguousBearerToken();
  if (hasQueryToken(request)) throw ambiguousBearerToken();
  // The scheme is matched apart from the token, so that only the caller's check reads it whole.
  return header.slice(schemeLength).trimEnd();
}

/**
 * The length of `Bearer` and the spaces after it at the start of `header`, or -1 when it starts
 * otherwise. The usual `Bearer <token>` is told by a comparison; the regular expression, which
 * allocates its match, is asked only about the rest (another casing, more spaces).
 */
function bearerSchemeLength(header: string): number {
  if (header.startsWith('Bearer ') && header.charCodeAt(7) !== SPACE) return 7;
  const scheme = BEARER_SCHEME.exec(header);
  return scheme === null ? -1 : scheme[0].length;
}

/** One well-formed b64token, or 401 `invalid_token` (`Bearer`, `Bearer a b`). */
function assertWellFormed(token: string): void {
  if (!B64TOKEN.test(token)) throw invalidBearerToken();
}

/** A scan of the raw name/value list: cheaper than `headersDistinct`, which copies every header. */
function authorizationHeaderCount(rawHeaders: string[]): number {
  let count = 0;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index];
    if (name.length === 13 && isAuthorization(name)) count += 1;
  }
  return count;
}

/** A header name that is `Authorization` in any casing: the two usual ones without a copy. */
function isAuthorization(name: string): boolean {
  return (
    name === 'authorization' || name === 'Authorization' || name.toLowerCase() === 'authorization'
  );
}

function hasQueryToken(request: FastifyRequest): boolean {
  const query = request.query;
  return typeof query === 'object' && query !== null && Object.hasOwn(query, 'access_token');
}
