import { Inject, Module } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_GUARD, HttpAdapterHost } from '@nestjs/core';
import {
  RevocationFeed,
  RevocationStream,
  ServiceTokenProvider,
  TokenIntrospectionClient,
} from '@tessera/auth-client';
import { AccessTokenVerifier, Clock } from '@tessera/auth-token';
import type { VerificationKeySource } from '@tessera/auth-token';
import type { FastifyInstance } from 'fastify';
import { resolveAuthOptions } from './auth-module.options';
import type { AuthModuleOptions, ResolvedAuthOptions } from './auth-module.options';
import {
  AUTH_MODULE_OPTIONS,
  ConfigurableAuthModule,
  RESOLVED_AUTH_OPTIONS,
  VERIFICATION_KEYS,
} from './auth.module-definition';
import { JwtAuthGuard } from './guard/jwt-auth.guard';
import { JwtStrategy } from './guard/jwt.strategy';
import { VerificationCache } from './guard/verification-cache';
import { JwksClient } from './jwks/jwks-client';
import { GuardMetrics } from './metrics/guard-metrics';
import { RevocationList } from './revocation/revocation-list';

/**
 * Protects every HTTP route of the service that imports it: a global guard verifies the bearer
 * access token against the issuer's JWKS (fetched, cached, never taken from the token), pins
 * the algorithms, `iss`, `aud` and `typ: at+jwt`, and answers as RFC 6750 says. Routes opt out
 * with `@Public()`, and ask for more with `@Scopes()` and `@Roles()`. With a `client` option it
 * also provides `ServiceTokenProvider` (this service's own token for calling other services) and
 * `TokenIntrospectionClient`.
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
      provide: VERIFICATION_KEYS,
      useFactory: (options: ResolvedAuthOptions, metrics: GuardMetrics): VerificationKeySource =>
        options.keys ??
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
      provide: AccessTokenVerifier,
      useFactory: (options: ResolvedAuthOptions, keys: VerificationKeySource, clock?: Clock) =>
        new AccessTokenVerifier({
          issuer: options.issuer,
          audiences: options.acceptedAudiences ?? [options.audience],
          keys,
          algorithms: options.algorithms,
          clockTolerance: options.clockTolerance,
          ...(clock && { clock }),
        }),
      // The application's Clock when it has one (auth-service's tests move it), else the system's.
      inject: [RESOLVED_AUTH_OPTIONS, VERIFICATION_KEYS, { token: Clock, optional: true }],
    },
    {
      provide: VerificationCache,
      useFactory: (options: ResolvedAuthOptions) =>
        new VerificationCache(options.verificationCacheSize),
      inject: [RESOLVED_AUTH_OPTIONS],
    },
    {
      provide: ServiceTokenProvider,
      useFactory: (options: ResolvedAuthOptions) =>
        new ServiceTokenProvider({ client: options.client, timeoutMs: options.jwksTimeout }),
      inject: [RESOLVED_AUTH_OPTIONS],
    },
    {
      provide: TokenIntrospectionClient,
      // Without a client its service token rejects, so every question is answered 503: fail closed.
      useFactory: (options: ResolvedAuthOptions, serviceToken: ServiceTokenProvider) =>
        new TokenIntrospectionClient(
          {
            uri: options.client?.introspectionUri ?? `${options.issuer}/oauth/introspect`,
            timeoutMs: options.jwksTimeout,
          },
          serviceToken,
        ),
      inject: [RESOLVED_AUTH_OPTIONS, ServiceTokenProvider],
    },
    { provide: RevocationList, useFactory: () => new RevocationList() },
    {
      provide: RevocationFeed,
      useFactory: (
        options: ResolvedAuthOptions,
        list: RevocationList,
        serviceToken: ServiceTokenProvider,
      ) =>
        options.revocationsUri === undefined || options.natsUrl !== undefined
          ? null
          : new RevocationFeed({ uri: options.revocationsUri }, list, serviceToken),
      inject: [RESOLVED_AUTH_OPTIONS, RevocationList, ServiceTokenProvider],
    },
    {
      // One switch: with a broker the same list is filled from the events stream instead.
      provide: RevocationStream,
      useFactory: (options: ResolvedAuthOptions, list: RevocationList) =>
        options.natsUrl === undefined
          ? null
          : new RevocationStream({ servers: options.natsUrl, name: options.audience }, list),
      inject: [RESOLVED_AUTH_OPTIONS, RevocationList],
    },
    JwtStrategy,
    JwtAuthGuard,
    { provide: APP_GUARD, useExisting: JwtAuthGuard },
  ],
  exports: [
    AccessTokenVerifier,
    // The gateway runs the same guard in front of its proxied routes (apps/gateway).
    JwtAuthGuard,
    GuardMetrics,
    ServiceTokenProvider,
    TokenIntrospectionClient,
    RevocationList,
    RevocationFeed,
    RevocationStream,
  ],
})
export class AuthModule
  extends ConfigurableAuthModule
  implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  constructor(
    @Inject(VERIFICATION_KEYS) private readonly keys: VerificationKeySource,
    @Inject(RevocationFeed) private readonly revocationFeed: RevocationFeed | null,
    @Inject(RevocationStream) private readonly revocationStream: RevocationStream | null,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    super();
  }

  /**
   * Every request has `user` from the start (null until the guard admits a principal), as
   * Fastify asks of a property set per request: a property added later changes the request's
   * object shape, and the code every request runs through slows down once it sees both shapes.
   */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance?.() as FastifyInstance | undefined;
    if (typeof fastify?.decorateRequest === 'function' && !fastify.hasRequestDecorator('user')) {
      fastify.decorateRequest('user', null);
    }
  }

  /**
   * Fetch the keys before the first request needs them, and start following the revocation log;
   * an issuer that is not up yet is no error.
   */
  onApplicationBootstrap(): void {
    if (this.keys instanceof JwksClient) void this.keys.refresh();
    this.revocationFeed?.start();
    this.revocationStream?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.revocationFeed?.stop();
    await this.revocationStream?.stop();
  }
}
