export { AuthModule } from './lib/auth.module';
export { authOptionsFromEnvironment, withAuthEnvironment } from './lib/config/auth-environment';
export { CurrentPrincipal } from './lib/decorators/current-principal.decorator';
export { RequireAuthentication } from './lib/decorators/require-authentication.decorator';
export { RequireVerifiedEmail } from './lib/decorators/require-verified-email.decorator';
export { JwtAuthGuard } from './lib/guard/jwt-auth.guard';
export { insufficientScope, invalidBearerToken } from './lib/http/bearer-challenge';
export { bearerTokenOf } from './lib/http/bearer-token';
