export * from './lib/auth.module';
export { authOptionsFromEnvironment, withAuthEnvironment } from './lib/config/auth-environment';
export type {
  AuthEnvironment,
  AuthEnvironmentDefaults,
  AuthEnvironmentOptions,
} from './lib/config/auth-environment';
export { AuthOptionsError } from './lib/auth-module.options';
export type { AuthModuleOptions, ServiceClientOptions } from './lib/auth-module.options';
export { CurrentPrincipal } from './lib/decorators/current-principal.decorator';
export { Roles, Scopes } from './lib/decorators/requirements';
export { JwtAuthGuard } from './lib/guard/jwt-auth.guard';
export {
  ambiguousBearerToken,
  insufficientScope,
  invalidBearerToken,
  missingBearerToken,
} from './lib/http/bearer-challenge';
export { bearerTokenOf } from './lib/http/bearer-token';
export { JwksClient } from './lib/jwks/jwks-client';
export { GuardMetrics, requireBearerToken } from './lib/metrics/guard-metrics';
export type { GuardRefusalReason } from './lib/metrics/guard-metrics';
export { RevocationFeed } from './lib/revocation/revocation-feed';
export type { RevocationFeedState } from './lib/revocation/revocation-feed';
export { RevocationList } from './lib/revocation/revocation-list';
export type { RevocationEvent } from './lib/revocation/revocation-list';
export { ServiceTokenError } from './lib/service-token/service-token.errors';
export type { ServiceTokenErrorReason } from './lib/service-token/service-token.errors';
export { ServiceTokenProvider } from './lib/service-token/service-token.provider';
export * from './lib/tokens/access-token.format';
export * from './lib/tokens/invalid-access-token.error';
export type { Principal } from './lib/tokens/principal';
/** Re-exported so that a service needs only `@tessera/auth` to mark its open routes. */
export { Public } from '@tessera/platform';
