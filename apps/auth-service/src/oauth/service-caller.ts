import { InvalidAccessTokenError } from '@tessera/auth-token';
import type { AccessTokenVerifier, Principal } from '@tessera/auth-token';

/**
 * The caller of a service endpoint that accepts a bearer token beside client authentication
 * (introspection): a service's own token (client credentials: no session) for auth-service that
 * carries `scope`; undefined for anything else, a user's token included.
 */
export async function serviceCaller(
  verifier: AccessTokenVerifier,
  token: string | undefined,
  scope: string,
): Promise<Principal | undefined> {
  if (!token) return undefined;
  const verified = await verifier.verify(token).catch((error: unknown) => {
    if (error instanceof InvalidAccessTokenError) return undefined;
    throw error;
  });
  const principal = verified?.principal;
  return principal?.kind === 'service' && principal.scopes.includes(scope) ? principal : undefined;
}
