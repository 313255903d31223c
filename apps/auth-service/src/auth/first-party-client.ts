/**
 * The client that `/auth/login` speaks for: Tessera's own front ends. The scopes are those of the
 * example resource-service. The OAuth clients table will take this over; until then it is here.
 */
export const FIRST_PARTY_CLIENT = {
  id: 'tessera-first-party',
  scopes: ['notes:read', 'notes:write'],
} as const;

/** The requested scopes, which may narrow but never exceed the client's; undefined = all. */
export function grantedScope(requested: string | undefined): string | undefined {
  const allowed: readonly string[] = FIRST_PARTY_CLIENT.scopes;
  if (requested === undefined) return allowed.join(' ');
  const scopes = [...new Set(requested.split(' '))];
  return scopes.every((scope) => allowed.includes(scope)) ? scopes.join(' ') : undefined;
}
