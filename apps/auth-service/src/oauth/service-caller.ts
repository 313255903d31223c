import type { AccessTokenClaims } from '@tessera/auth';
import type { AccessTokenService } from '../tokens/access-token.service';

/** auth-service's own audience: service tokens for its service endpoints name it in `aud`. */
export const AUTH_SERVICE_AUDIENCE = 'auth-service';

/**
 * The claims of a service's own token (client credentials: `sub` = `client_id`, no session) for
 * auth-service that carries `scope`; undefined for anything else, a user's token included.
 */
export async function serviceTokenClaims(
  accessTokens: AccessTokenService,
  token: string | undefined,
  scope: string,
): Promise<AccessTokenClaims | undefined> {
  if (!token) return undefined;
  const claims = await accessTokens.verify(token).catch(() => undefined);
  if (!claims || claims.sub !== claims.client_id || claims.sid !== undefined) return undefined;
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
  const scopes = claims.scope?.split(' ') ?? [];
  return audiences.includes(AUTH_SERVICE_AUDIENCE) && scopes.includes(scope) ? claims : undefined;
}
