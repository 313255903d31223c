/**
 * Where `@Scopes()` and `@Roles()` of `@tessera/auth` keep what a route needs. The keys live here,
 * beside `@Public()`'s, so that the platform's API docs describe each route from the same metadata
 * the guard enforces.
 */
export const SCOPES_KEY = 'tessera:scopes';
export const ROLES_KEY = 'tessera:roles';
