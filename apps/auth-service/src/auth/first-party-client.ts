/**
 * The client `/auth/login` speaks for: Tessera's own front ends, a public client seeded by the
 * clients migration with its scopes.
 */
export const FIRST_PARTY_CLIENT_ID = 'tessera-first-party';

/**
 * Identity scopes (OpenID Connect): granted only when asked for, since asking for `openid` is how
 * a login asks for an ID token.
 */
const IDENTITY_SCOPES = ['openid', 'email'];

/**
 * The requested scopes if every one is allowed, else undefined; without a request, every allowed
 * scope but the identity ones. Duplicates collapse, order is kept.
 */
export function grantedScope(
  requested: string | undefined,
  allowed: readonly string[],
): string | undefined {
  if (requested === undefined)
    return allowed.filter((scope) => !IDENTITY_SCOPES.includes(scope)).join(' ');
  const scopes = [...new Set(requested.split(' '))];
  return scopes.every((scope) => allowed.includes(scope)) ? scopes.join(' ') : undefined;
}
