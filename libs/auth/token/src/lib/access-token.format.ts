import { InvalidAccessTokenError } from './invalid-access-token.error';

/** The asymmetric algorithms Tessera signs and accepts access tokens with; never HMAC or `none`. */
export const ACCESS_TOKEN_ALGORITHMS = ['ES256', 'RS256'] as const;
export type AccessTokenAlgorithm = (typeof ACCESS_TOKEN_ALGORITHMS)[number];

/** RFC 9068 §2.1; compared case-insensitively, with or without the `application/` prefix. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** Far above any token Tessera issues; longer ones are refused before any parsing. */
export const MAX_ACCESS_TOKEN_LENGTH = 8192;

/** What a `kid` may look like: RFC 7638 thumbprints and the like. Anything else is never looked up. */
const KID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** The claims of an access token (RFC 9068 §2.2), as issued and as verification returns them. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  scope?: string;
  roles?: string[];
  sid?: string;
  nbf?: number;
  /** RFC 8176 authentication methods of the sign-in behind the token (`pwd`, `otp`, `hwk`, …). */
  amr?: string[];
  /** The authentication context class the sign-in reached (ACR_SINGLE_FACTOR, ACR_MULTI_FACTOR). */
  acr?: string;
  /** Epoch seconds: when the user last authenticated (OpenID Connect `auth_time`, RFC 9470). */
  auth_time?: number;
  /** A user token: whether the user's email address is verified (`@RequireVerifiedEmail()`). */
  email_verified?: boolean;
}

/** The header fields verification relies on, once readAccessTokenHeader has checked them. */
export interface AccessTokenHeader {
  alg: AccessTokenAlgorithm;
  kid: string;
}

export function isAccessTokenAlgorithm(value: unknown): value is AccessTokenAlgorithm {
  return (
    typeof value === 'string' && (ACCESS_TOKEN_ALGORITHMS as readonly string[]).includes(value)
  );
}

/** A compact JWS split into its three segments, each checked to be canonical base64url. */
export interface CompactJws {
  /** The protected header, still encoded. */
  header: string;
  /** The payload, still encoded. */
  payload: string;
  /** `header.payload`: what the signature covers. */
  signingInput: string;
  /** The signature, still encoded. */
  signature: string;
}

/**
 * A compact JWS, read strictly (R20) without decoding anything: at most MAX_ACCESS_TOKEN_LENGTH
 * characters, three canonical base64url segments without padding. Each segment is decoded once,
 * later, by whoever needs it.
 *
 * @throws InvalidAccessTokenError `malformed`.
 */
export function readCompactJws(token: string): CompactJws {
  if (typeof token !== 'string' || token.length > MAX_ACCESS_TOKEN_LENGTH) {
    throw new InvalidAccessTokenError('malformed');
  }
  const first = token.indexOf('.');
  const second = first === -1 ? -1 : token.indexOf('.', first + 1);
  if (second === -1 || token.indexOf('.', second + 1) !== -1) {
    throw new InvalidAccessTokenError('malformed');
  }
  const jws: CompactJws = {
    header: token.slice(0, first),
    payload: token.slice(first + 1, second),
    signingInput: token.slice(0, second),
    signature: token.slice(second + 1),
  };
  if (
    !isCanonicalBase64Url(jws.header) ||
    !isCanonicalBase64Url(jws.payload) ||
    !isCanonicalBase64Url(jws.signature)
  ) {
    throw new InvalidAccessTokenError('malformed');
  }
  return jws;
}

/**
 * Reads and checks the protected header of a compact JWS before any key is looked up: a JSON
 * object header, an allowlisted `alg`, `typ: at+jwt` (R14), no `crit` (we understand no
 * extension, RFC 7515 §4.1.11: R13) and a plain `kid` (R11). Keys carried by the token (`jwk`,
 * `jku`, `x5u`, `x5c`) are never read (R10). `header` is the encoded segment of
 * {@link readCompactJws}.
 *
 * @throws InvalidAccessTokenError with the reason, whatever is wrong.
 */
export function readAccessTokenHeader(
  header: string,
  algorithms: readonly AccessTokenAlgorithm[] = ACCESS_TOKEN_ALGORITHMS,
): AccessTokenHeader {
  const fields = parseObject(header);
  if (!fields) throw new InvalidAccessTokenError('malformed', 'header');
  const alg = fields['alg'];
  if (!isAccessTokenAlgorithm(alg) || !algorithms.includes(alg)) {
    throw new InvalidAccessTokenError('algorithm');
  }
  if (!isAccessTokenType(fields['typ'])) throw new InvalidAccessTokenError('type');
  if (Object.hasOwn(fields, 'crit'))
    throw new InvalidAccessTokenError('unsupported_header', 'crit');
  const kid = fields['kid'];
  if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) {
    throw new InvalidAccessTokenError('unknown_key');
  }
  return { alg, kid };
}

/**
 * The payload of a compact JWS whose signature has been checked: the JSON it encodes (its
 * claims are typed by {@link readAccessTokenClaims}).
 *
 * @throws InvalidAccessTokenError `claims` (`payload`) when it is not JSON.
 */
export function readJwsPayload(payload: string): unknown {
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalid('payload');
  }
}

export function isAccessTokenType(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const type = typ.toLowerCase();
  return type === ACCESS_TOKEN_TYPE || type === `application/${ACCESS_TOKEN_TYPE}`;
}

/**
 * The verified payload as AccessTokenClaims (R19): `iss`, `sub`, `jti`, `client_id` non-empty
 * strings, `exp` and `iat` numbers, `aud` a string or a non-empty list of them; `scope`, `roles`,
 * `sid`, `amr`, `acr` and `auth_time` typed when present. Only own properties count, so a `__proto__` member adds nothing.
 *
 * @throws InvalidAccessTokenError `claims`, naming the claim, when one is missing or mistyped.
 */
export function readAccessTokenClaims(payload: unknown): AccessTokenClaims {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw invalid('payload');
  }
  const claims = payload as Record<string, unknown>;
  const own = (name: string) => (Object.hasOwn(claims, name) ? claims[name] : undefined);
  for (const name of ['iss', 'sub', 'jti', 'client_id'] as const) {
    if (!isNonEmptyString(own(name))) throw invalid(name);
  }
  for (const name of ['exp', 'iat'] as const) {
    if (!isFiniteNumber(own(name))) throw invalid(name);
  }
  if (own('nbf') !== undefined && !isFiniteNumber(own('nbf'))) throw invalid('nbf');
  const aud = own('aud');
  if (!isString(aud) && !(Array.isArray(aud) && aud.length > 0 && aud.every(isString))) {
    throw invalid('aud');
  }
  if (own('scope') !== undefined && !isString(own('scope'))) throw invalid('scope');
  const roles = own('roles');
  if (roles !== undefined && !(Array.isArray(roles) && roles.every(isString))) {
    throw invalid('roles');
  }
  if (own('sid') !== undefined && !isNonEmptyString(own('sid'))) throw invalid('sid');
  const emailVerified = own('email_verified');
  if (emailVerified !== undefined && typeof emailVerified !== 'boolean') {
    throw invalid('email_verified');
  }
  const amr = own('amr');
  if (amr !== undefined && !(Array.isArray(amr) && amr.every(isString))) throw invalid('amr');
  if (own('acr') !== undefined && !isNonEmptyString(own('acr'))) throw invalid('acr');
  if (own('auth_time') !== undefined && !isFiniteNumber(own('auth_time'))) {
    throw invalid('auth_time');
  }
  return claims as unknown as AccessTokenClaims;
}

/** The 6-bit value of each base64url character, by character code; -1 for any other. */
const BASE64URL_VALUES = Int8Array.from({ length: 128 }, (_, code) =>
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(
    String.fromCharCode(code),
  ),
);

/**
 * base64url without padding, and the one spelling of its bytes: a last character whose unused
 * bits are set decodes to the same bytes, so another string would verify as the same token.
 * Judged from the length and the last character, without decoding: 4n + 1 characters are never
 * whole bytes; the last of 4n + 2 carries 4 unused bits, of 4n + 3 two.
 */
function isCanonicalBase64Url(segment: string): boolean {
  if (!SEGMENT.test(segment)) return false;
  const unusedBits = [0, -1, 4, 2][segment.length % 4];
  if (unusedBits === -1) return false;
  const last = BASE64URL_VALUES[segment.charCodeAt(segment.length - 1)];
  return (last & ((1 << unusedBits) - 1)) === 0;
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

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function invalid(claim: string): InvalidAccessTokenError {
  return new InvalidAccessTokenError('claims', claim);
}
