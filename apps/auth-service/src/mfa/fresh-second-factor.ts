import { ACR_MULTI_FACTOR } from '@tessera/auth-token';
import type { AuthenticationRequirement } from '@tessera/auth-token';

/**
 * What removing a factor (or replacing the recovery codes) asks of the caller's token: a sign-in
 * with a second factor, at most 5 minutes ago. A stolen password-only session cannot weaken the
 * account.
 */
export const FRESH_SECOND_FACTOR: AuthenticationRequirement = {
  acr: ACR_MULTI_FACTOR,
  maxAge: 300,
};
