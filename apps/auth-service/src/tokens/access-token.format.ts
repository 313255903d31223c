import { InvalidAccessTokenError } from './access-token.errors';

/** The claims of an access token (RFC 9068 §2.2), as issued and as verify() returns them. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  scope: string;
  roles: string[];
  sid?: string;
}

/** Far above any token we issue; refused before any parsing or key lookup. */
const MAX_TOKEN_LENGTH = 8192;
const SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * The protected header of a compact JWS, read strictly: three base64url segments (no padding),
 * a JSON object header. Anything else is `malformed` rather than a crash further on.
 */
export function readJoseHeader(token: string): Record<string, unknown> {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) {
    throw new InvalidAccessTokenError('malformed');
  }
  const segments = token.split('.');
  if (segments.length !== 3 || !segments.every((segment) => SEGMENT.test(segment))) {
    throw new InvalidAccessTokenError('malformed');
  }
  const header = parseObject(segments[0]);
  if (!header) throw new InvalidAccessTokenError('malformed', 'header');
  return header;
}

/** The verified payload as AccessTokenClaims, or `claims` when a required one is missing or mistyped. */
export function readAccessTokenClaims(payload: unknown): AccessTokenClaims {
  if (typeof payload !== 'object' || payload === null) throw invalid('payload');
  const claims = payload as Record<string, unknown>;
  for (const name of ['iss', 'sub', 'jti', 'client_id', 'scope'] as const) {
    if (typeof claims[name] !== 'string' || claims[name] === '') throw invalid(name);
  }
  for (const name of ['exp', 'iat'] as const) {
    if (typeof claims[name] !== 'number' || !Number.isFinite(claims[name])) throw invalid(name);
  }
  if (!isStringOrStrings(claims['aud'])) throw invalid('aud');
  if (!Array.isArray(claims['roles']) || !claims['roles'].every(isString)) throw invalid('roles');
  if (claims['sid'] !== undefined && !isString(claims['sid'])) throw invalid('sid');
  return claims as unknown as AccessTokenClaims;
}

function parseObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function isStringOrStrings(value: unknown): boolean {
  return isString(value) || (Array.isArray(value) && value.length > 0 && value.every(isString));
}

function invalid(claim: string): InvalidAccessTokenError {
  return new InvalidAccessTokenError('claims', claim);
}
