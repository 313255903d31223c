import { SetMetadata } from '@nestjs/common';
import type { AuthenticationRequirement } from '@tessera/auth-token';

/** Where `@RequireAuthentication()` keeps what the route asks of the sign-in. */
export const AUTHENTICATION_REQUIREMENT_KEY = 'tessera:authentication';

/**
 * Step-up (RFC 9470): the route needs a token whose sign-in reached `acr` (ACR_MULTI_FACTOR: a
 * second factor) and/or is at most `maxAge` seconds old. Otherwise the guard answers 401 with
 * `WWW-Authenticate: Bearer error="insufficient_user_authentication"` and the `acr_values` /
 * `max_age` to sign in again with. Scopes are checked first: a caller without them gets 403.
 *
 * @example
 * ```ts
 * @RequireAuthentication({ acr: ACR_MULTI_FACTOR, maxAge: 600 })
 * @Delete()
 * removeAll(@CurrentPrincipal() principal: Principal) { … }
 * ```
 */
export const RequireAuthentication = (
  requirement: AuthenticationRequirement,
): MethodDecorator & ClassDecorator => SetMetadata(AUTHENTICATION_REQUIREMENT_KEY, requirement);
