/**
 * The client `/auth/login` speaks for: Tessera's own front ends, a public client in the registry
 * with its scopes, audiences and default audiences.
 */
export const FIRST_PARTY_CLIENT_ID = 'tessera-first-party';

/** The scope of auth-service's admin API: granted only to users with the `admin` role. */
export const ADMIN_SCOPE = 'admin';

/** The role a user must have to be granted ADMIN_SCOPE. */
export const ADMIN_ROLE = 'admin';

/**
 * Scopes granted only when asked for: the identity scopes of OpenID Connect (asking for `openid`
 * is how a login asks for an ID token) and the admin scope, which no token carries by default.
 */
const ON_REQUEST_SCOPES = ['openid', 'email', ADMIN_SCOPE];

/**
 * The requested scopes if every one is allowed, else undefined; without a request, every allowed
 * scope but the ones granted only on request. Duplicates collapse, order is kept.
 */
export function grantedScope(
  requested: string | undefined,
  allowed: readonly string[],
): string | undefined {
  if (requested === undefined)
    return allowed.filter((scope) => !ON_REQUEST_SCOPES.includes(scope)).join(' ');
  const scopes = [...new Set(requested.split(' '))];
  return scopes.every((scope) => allowed.includes(scope)) ? scopes.join(' ') : undefined;
}

/** Whether the space-separated `scope` includes `name`. */
export function scopeIncludes(scope: string, name: string): boolean {
  return scope.split(' ').includes(name);
}

/** `scope` without the admin scope, unless `roles` has the admin role. */
export function withAdminOnlyFor(scope: string, roles: readonly string[]): string {
  if (roles.includes(ADMIN_ROLE)) return scope;
  return scope
    .split(' ')
    .filter((name) => name !== ADMIN_SCOPE)
    .join(' ');
}
