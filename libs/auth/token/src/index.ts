export {
  ACCESS_TOKEN_ALGORITHMS,
  ACCESS_TOKEN_TYPE,
  isAccessTokenAlgorithm,
} from './lib/access-token.format';
export type { AccessTokenAlgorithm, AccessTokenClaims } from './lib/access-token.format';
export { AccessTokenVerifier, CLOCK_TOLERANCE_SECONDS } from './lib/access-token.verifier';
export type {
  VerificationKey,
  VerificationKeySource,
  VerifiedAccessToken,
} from './lib/access-token.verifier';
export {
  ACR_MULTI_FACTOR,
  ACR_SINGLE_FACTOR,
  acrOf,
  AMR,
  satisfiesAuthentication,
} from './lib/authentication-context';
export type { AuthenticationMethod, AuthenticationRequirement } from './lib/authentication-context';
export { Clock } from './lib/clock';
export { InvalidAccessTokenError } from './lib/invalid-access-token.error';
export type { InvalidAccessTokenReason } from './lib/invalid-access-token.error';
export type { Principal } from './lib/principal';
export {
  IS_PUBLIC_KEY,
  Public,
  Roles,
  ROLES_KEY,
  Scopes,
  SCOPES_KEY,
} from './lib/route-requirements';
