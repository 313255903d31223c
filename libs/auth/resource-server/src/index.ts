export { AuthModule } from './lib/auth.module';
export { AuthOptionsError } from './lib/auth-module.options';
export type { AuthModuleOptions } from './lib/auth-module.options';
export { authOptionsFromEnvironment, withAuthEnvironment } from './lib/config/auth-environment';
export type {
  AuthEnvironment,
  AuthEnvironmentDefaults,
  AuthEnvironmentOptions,
} from './lib/config/auth-environment';
export { CurrentPrincipal } from './lib/decorators/current-principal.decorator';
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
export { RevocationList } from './lib/revocation/revocation-list';
