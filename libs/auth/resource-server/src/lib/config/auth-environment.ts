import { HttpsInProduction } from '@tessera/platform';
import type { HttpServiceEnvironment } from '@tessera/platform';
import { Type } from 'class-transformer';
import { IsInt, IsUrl, Matches, Max, Min, ValidateIf } from 'class-validator';
import type { AuthModuleOptions } from '../auth-module.options';

const HTTP_URL = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };

/** What a service is to auth-service: the `aud` its tokens name, and the client it calls as. */
export interface AuthEnvironmentDefaults {
  /** This service's id, e.g. `orders-service`: AUTH_AUDIENCE and AUTH_CLIENT_ID default to it. */
  audience: string;
}

// A mixin must take `new (...args: any[])` (TypeScript's rule for mixin constructors).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type EnvironmentClass = new (...args: any[]) => HttpServiceEnvironment;

/**
 * Adds the variables of a service that accepts auth-service's access tokens to its environment
 * class: AUTH_ISSUER, AUTH_AUDIENCE, AUTH_SERVICE_URL, AUTH_CLIENT_ID, AUTH_CLIENT_SECRET and
 * AUTH_CLOCK_TOLERANCE, validated like every other variable. Pass it `ServiceEnvironment`, or
 * `HttpServiceEnvironment` for a service without a database.
 *
 * @example
 * ```ts
 * export class OrdersServiceEnvironment extends withAuthEnvironment(ServiceEnvironment, {
 *   audience: 'orders-service',
 * }) {
 *   override PORT = 3003;
 * }
 * ```
 */
export function withAuthEnvironment<T extends EnvironmentClass>(
  Base: T,
  defaults: AuthEnvironmentDefaults,
) {
  class EnvironmentWithAuth extends Base {
    /**
     * The exact `iss` of the tokens it accepts: auth-service's ISSUER, byte for byte. With
     * NODE_ENV=production it must be https (but for a loopback host), as ISSUER must.
     */
    @IsUrl(HTTP_URL, { message: 'must be auth-service’s ISSUER, e.g. https://auth.example.com' })
    @Matches(/[^/]$/, { message: 'must not end with a slash' })
    @HttpsInProduction()
    AUTH_ISSUER = 'http://127.0.0.1:3001';

    /** This service's id: accepted tokens must name it in `aud`. */
    @Matches(/^[A-Za-z0-9._:-]{1,100}$/, {
      message: `must be this service’s id as auth-service names it in aud, e.g. ${defaults.audience}`,
    })
    AUTH_AUDIENCE = defaults.audience;

    /**
     * Where this service reaches auth-service (its JWKS, token and introspection endpoints).
     * Unset: AUTH_ISSUER. Set it when clients and services reach auth-service at different
     * addresses, as in docker-compose. With NODE_ENV=production it must be https, but for a
     * loopback host or a single-label host of a private network (docker-compose's
     * `http://auth-service:3001`): the keys, service tokens and introspection answers come
     * through it.
     */
    @ValidateIf((environment: EnvironmentWithAuth) => environment.AUTH_SERVICE_URL !== undefined)
    @IsUrl(HTTP_URL, {
      message: 'must be the http(s) base URL this service reaches auth-service at',
    })
    @Matches(/[^/]$/, { message: 'must not end with a slash' })
    @HttpsInProduction({ internalHosts: true })
    AUTH_SERVICE_URL?: string;

    /** The OAuth client this service is when it calls auth-service as itself (client credentials). */
    @Matches(/^[a-z][a-z0-9._-]{1,63}$/, {
      message: `must be a client id, e.g. ${defaults.audience}`,
    })
    AUTH_CLIENT_ID = defaults.audience;

    /**
     * That client's secret. Unset: the service makes no calls of its own to auth-service, so it
     * does not follow the revocation feed (a revoked session's tokens work until they expire).
     * `npm start` and docker-compose set it.
     */
    @ValidateIf((environment: EnvironmentWithAuth) => environment.AUTH_CLIENT_SECRET !== undefined)
    @Matches(/^[A-Za-z0-9_-]{32,256}$/, {
      message:
        'must be the client secret auth-service has for AUTH_CLIENT_ID (32+ base64url characters)',
    })
    AUTH_CLIENT_SECRET?: string;

    /** Leeway in seconds for `exp` and `nbf` against auth-service's clock (at most 60). */
    @Type(() => Number)
    @IsInt({ message: 'must be a whole number of seconds from 0 to 60' })
    @Min(0, { message: 'must be a whole number of seconds from 0 to 60' })
    @Max(60, { message: 'must be a whole number of seconds from 0 to 60' })
    AUTH_CLOCK_TOLERANCE = 30;

    /**
     * A NATS server with JetStream, e.g. `nats://nats:4222` (a comma-separated list for a
     * cluster). Set: revocations are followed on auth-service's events stream instead of its
     * server-sent events feed (ADR 0013). Unset: the feed, which needs nothing installed.
     */
    @ValidateIf((environment: EnvironmentWithAuth) => environment.NATS_URL !== undefined)
    @Matches(/^(nats|tls):\/\/[^\s,]+(,(nats|tls):\/\/[^\s,]+)*$/, {
      message: 'must be nats:// URLs separated by commas, e.g. nats://nats:4222',
    })
    NATS_URL?: string;
  }
  return EnvironmentWithAuth;
}

/** The AUTH_* variables as `withAuthEnvironment` declares them. */
export interface AuthEnvironment {
  AUTH_ISSUER: string;
  AUTH_AUDIENCE: string;
  AUTH_SERVICE_URL?: string;
  AUTH_CLIENT_ID: string;
  AUTH_CLIENT_SECRET?: string;
  AUTH_CLOCK_TOLERANCE: number;
  NATS_URL?: string;
}

export interface AuthEnvironmentOptions {
  /**
   * The scopes this service asks auth-service for as a client, space-separated. Default
   * `revocations:read`: enough to follow the revocation feed.
   */
  clientScope?: string;
}

/**
 * `AuthModule` options from the AUTH_* variables: tokens are checked against AUTH_ISSUER and
 * AUTH_AUDIENCE with the issuer's JWKS; with AUTH_CLIENT_SECRET set the service also becomes a
 * client of auth-service (its own tokens for outgoing calls) and follows the revocation feed, so
 * a revoked session's tokens are refused within about a second.
 *
 * @example
 * ```ts
 * AuthModule.forRootAsync({
 *   inject: [ordersServiceConfig.KEY],
 *   useFactory: (environment: ConfigType<typeof ordersServiceConfig>) =>
 *     authOptionsFromEnvironment(environment),
 * })
 * ```
 */
export function authOptionsFromEnvironment(
  environment: AuthEnvironment,
  { clientScope = 'revocations:read' }: AuthEnvironmentOptions = {},
): AuthModuleOptions {
  const authService = environment.AUTH_SERVICE_URL ?? environment.AUTH_ISSUER;
  return {
    issuer: environment.AUTH_ISSUER,
    audience: environment.AUTH_AUDIENCE,
    jwksUri: `${authService}/.well-known/jwks.json`,
    clockTolerance: environment.AUTH_CLOCK_TOLERANCE,
    ...(environment.NATS_URL && { natsUrl: environment.NATS_URL }),
    ...(environment.AUTH_CLIENT_SECRET && {
      client: {
        id: environment.AUTH_CLIENT_ID,
        secret: environment.AUTH_CLIENT_SECRET,
        tokenUri: `${authService}/oauth/token`,
        introspectionUri: `${authService}/oauth/introspect`,
        scope: clientScope,
        audience: 'auth-service',
      },
      revocationsUri: `${authService}/revocations`,
    }),
  };
}
