import type { AccessTokenClaims } from './access-token.format';

/**
 * Who is calling, from a verified access token. Identity is the pair `issuer` + `subject` (R25):
 * a subject is unique only within its issuer. Scopes and roles come from verified claims only;
 * no request header can add to them (R28).
 */
export interface Principal {
  /** `sub`: a user id, or the client id for a service token (client credentials). */
  readonly subject: string;
  /** `iss`, byte for byte. */
  readonly issuer: string;
  /** `client_id`: the OAuth client the token was issued to. */
  readonly clientId: string;
  /** `scope`, split on spaces. */
  readonly scopes: readonly string[];
  /** `roles`, e.g. `['admin']`. */
  readonly roles: readonly string[];
  /** `sid`: the session (refresh-token family) of a user token; undefined for a service token. */
  readonly sessionId: string | undefined;
  /** `service` when the token speaks for a client itself (`sub` = `client_id`), else `user`. */
  readonly kind: 'user' | 'service';
}

/** The principal of verified claims, frozen: it may be shared by many requests through the cache. */
export function principalOf(claims: AccessTokenClaims): Principal {
  return Object.freeze({
    subject: claims.sub,
    issuer: claims.iss,
    clientId: claims.client_id,
    scopes: Object.freeze((claims.scope ?? '').split(' ').filter(Boolean)),
    roles: Object.freeze([...(claims.roles ?? [])]),
    sessionId: claims.sid,
    kind: claims.sub === claims.client_id ? 'service' : 'user',
  });
}
