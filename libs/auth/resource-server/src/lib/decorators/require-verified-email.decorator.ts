import { SetMetadata } from '@nestjs/common';

/** Where `@RequireVerifiedEmail()` marks a route. */
export const VERIFIED_EMAIL_KEY = 'tessera:verifiedEmail';

/**
 * The route needs a user whose email address is verified: a token whose `email_verified` claim
 * is `true` (auth-service sets it from the account at each sign-in and refresh). Otherwise the
 * guard answers 403 `email_not_verified`, after the scopes and roles are checked. A token without
 * the claim (a service token, an older token) counts as unverified. On a controller it applies to
 * every route.
 *
 * @example
 * ```ts
 * @RequireVerifiedEmail()
 * @Post()
 * publish(@CurrentPrincipal() principal: Principal) { … }
 * ```
 */
export const RequireVerifiedEmail = (): MethodDecorator & ClassDecorator =>
  SetMetadata(VERIFIED_EMAIL_KEY, true);
