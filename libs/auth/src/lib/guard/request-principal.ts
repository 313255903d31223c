import type { Principal } from '../tokens/principal';

/** Where the guard keeps the caller on the request: passport's `user`, typed. */
export interface RequestWithPrincipal {
  user?: Principal;
}

export function principalOfRequest(request: RequestWithPrincipal): Principal | undefined {
  return request.user;
}
