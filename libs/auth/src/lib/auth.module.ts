import { Inject, Module } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { resolveAuthOptions } from './auth-module.options';
import type { AuthModuleOptions, ResolvedAuthOptions } from './auth-module.options';
import {
  AUTH_MODULE_OPTIONS,
  ConfigurableAuthModule,
  RESOLVED_AUTH_OPTIONS,
} from './auth.module-definition';
import { JwtAuthGuard } from './guard/jwt-auth.guard';
import { JwtStrategy } from './guard/jwt.strategy';
import { VerificationCache } from './guard/verification-cache';
import { JwksClient } from './jwks/jwks-client';
import { GuardMetrics } from './metrics/guard-metrics';
import { RevocationFeed } from './revocation/revocation-feed';
import { RevocationList } from './revocation/revocation-list';
import { ServiceTokenProvider } from './service-token/service-token.provider';

/**
 * Protects every HTTP route of the service that imports it: a global guard verifies the bearer
 * access token against the issuer's JWKS (fetched, cached, never taken from the token), pins
 * the algorithms, `iss`, `aud` and `typ: at+jwt`, and answers as RFC 6750 says. Routes opt out
 * with `@Public()`, and ask for more with `@Scopes()` and `@Roles()`. With a `client` option it
 * also provides `ServiceTokenProvider`, this service's own token for calling other services.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [AuthModule.forRoot({ issuer: 'https://auth.example.com', audience: 'orders-service' })],
 * })
 * export class AppModule {}
 *
 * // or from configuration:
 * AuthModule.forRootAsync({
 *   inject: [ordersConfig.KEY],
 *   useFactory: (env: ConfigType<typeof ordersConfig>) => ({ issuer: env.AUTH_ISSUER, audience: env.AUTH_AUDIENCE }),
 * })
 * ```
 */
@Module({
  providers: [
    {
      provide: RESOLVED_AUTH_OPTIONS,
      useFactory: (options: AuthModuleOptions) => resolveAuthOptions(options),
      inject: [AUTH_MODULE_OPTIONS],
    },
    GuardMetrics,
    {
      provide: JwksClient,
      useFactory: (options: ResolvedAuthOptions, metrics: GuardMetrics) =>
        new JwksClient({
          jwksUri: options.jwksUri,
          algorithms: options.algorithms,
          cacheMaxAgeMs: options.jwksCacheMaxAge * 1000,
          cooldownMs: options.jwksCooldown * 1000,
          timeoutMs: options.jwksTimeout,
          onFetch: (outcome) => metrics.jwksFetched(outcome),
        }),
      inject: [RESOLVED_AUTH_OPTIONS, GuardMetrics],
    },
    {
      provide: VerificationCache,
      useFactory: (options: ResolvedAuthOptions) =>
        new VerificationCache(options.verificationCacheSize, options.clockTolerance),
      inject: [RESOLVED_AUTH_OPTIONS],
    },
    {
      provide: ServiceTokenProvider,
      useFactory: (options: ResolvedAuthOptions) =>
        new ServiceTokenProvider({ client: options.client, timeoutMs: options.jwksTimeout }),
      inject: [RESOLVED_AUTH_OPTIONS],
    },
    { provide: RevocationList, useFactory: () => new RevocationList() },
    {
      provide: RevocationFeed,
      useFactory: (
        options: ResolvedAuthOptions,
        list: RevocationList,
        serviceToken: ServiceTokenProvider,
      ) =>
        options.revocationsUri === undefined
          ? null
          : new RevocationFeed({ uri: options.revocationsUri }, list, serviceToken),
      inject: [RESOLVED_AUTH_OPTIONS, RevocationList, ServiceTokenProvider],
    },
    JwtStrategy,
    { provide: APP_GUARD, useClass: JwtAuthGuard },
  ],
  exports: [
    JwksClient,
    ServiceTokenProvider,
    RevocationList,
    RevocationFeed,
    RESOLVED_AUTH_OPTIONS,
  ],
})
export class AuthModule
  extends ConfigurableAuthModule
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  constructor(
    private readonly jwks: JwksClient,
    @Inject(RevocationFeed) private readonly revocationFeed: RevocationFeed | null,
  ) {
    super();
  }

  /**
   * Fetch the keys before the first request needs them, and start following the revocation log;
   * an issuer that is not up yet is no error.
   */
  onApplicationBootstrap(): void {
    void this.jwks.refresh();
    this.revocationFeed?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.revocationFeed?.stop();
  }
}
