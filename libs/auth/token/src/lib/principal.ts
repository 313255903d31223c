import type { AccessTokenClaims } from './access-token.format';

/**
 * Who is calling, from a verified access token: the one type every Tessera service, auth-service
 * included, hands its handlers. Identity is the pair `issuer` + `subject`: a subject is unique only
 * within its issuer. Scopes, roles and audiences come from verified claims only; no request header
 * can add to them.
 */
export interface Principal {
  /** `sub`: a user id, or the client id for a service token (client credentials). */
  readonly subject: string;
  /** `iss`, byte for byte. */
  readonly issuer: string;
  /** `client_id`: the OAuth client the token was issued to. */
  readonly clientId: string;
  /** `aud`, always a list: the services this token was issued for. */
  readonly audiences: readonly string[];
  /** `scope`, split on spaces. */
  readonly scopes: readonly string[];
  /** `roles`, e.g. `['admin']`. */
  readonly roles: readonly string[];
  /** `sid`: the session (refresh-token family) of a user token; undefined for a service token. */
  readonly sessionId: string | undefined;
  /** `service` when the token speaks for a client itself (`sub` = `client_id`), else `user`. */
  readonly kind: 'user' | 'service';
  /** `iat`, epoch seconds: a user-wide revocation covers the tokens issued before it. */
  readonly issuedAt: number;
  /** `exp`, epoch seconds. */
  readonly expiresAt: number;
  /** `auth_time`, epoch seconds: when the user signed in; undefined for a service token. */
  readonly authTime: number | undefined;
  /** `acr`: the authentication context class of that sign-in (ACR_MULTI_FACTOR, …). */
  readonly acr: string | undefined;
  /** `amr` (RFC 8176): how the user signed in, e.g. `['pwd', 'otp', 'mfa']`. */
  readonly amr: readonly string[];
  /** `email_verified`: true only when the token says so; false when it says no or nothing. */
  readonly emailVerified: boolean;
}

/** The principal of verified claims, frozen: it may be shared by many requests through a cache. */
export function principalOf(claims: AccessTokenClaims): Principal {
  return Object.freeze({
    subject: claims.sub,
    issuer: claims.iss,
    clientId: claims.client_id,
    audiences: Object.freeze(typeof claims.aud === 'string' ? [claims.aud] : [...claims.aud]),
    scopes: Object.freeze((claims.scope ?? '').split(' ').filter(Boolean)),
    roles: Object.freeze([...(claims.roles ?? [])]),
    sessionId: claims.sid,
    kind: claims.sub === claims.client_id ? 'service' : 'user',
    issuedAt: claims.iat,
    expiresAt: claims.exp,
    authTime: claims.auth_time,
    acr: claims.acr,
    amr: Object.freeze([...(claims.amr ?? [])]),
    emailVerified: claims.email_verified === true,
  });
}
