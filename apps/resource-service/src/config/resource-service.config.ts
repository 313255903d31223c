import { registerAs } from '@nestjs/config';
import { ServiceEnvironment, validateEnvironment } from '@tessera/platform';
import { Type } from 'class-transformer';
import { IsInt, IsUrl, Matches, Max, Min, ValidateIf } from 'class-validator';

const HTTP_URL = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };

/** Every variable resource-service reads; `.env.example` documents each one. */
export class ResourceServiceEnvironment extends ServiceEnvironment {
  override PORT = 3002;

  /** The exact `iss` of the tokens it accepts: auth-service's ISSUER, byte for byte. */
  @IsUrl(HTTP_URL, { message: 'must be auth-service’s ISSUER, e.g. https://auth.example.com' })
  @Matches(/[^/]$/, { message: 'must not end with a slash' })
  AUTH_ISSUER = 'http://127.0.0.1:3001';

  /** This service's id: accepted tokens must name it in `aud`. */
  @Matches(/^[A-Za-z0-9._:-]{1,100}$/, {
    message: 'must be this service’s id as auth-service names it in aud, e.g. resource-service',
  })
  AUTH_AUDIENCE = 'resource-service';

  /**
   * Where this service reaches auth-service (its JWKS, token and introspection endpoints).
   * Unset: AUTH_ISSUER. Set it when clients and services reach auth-service at different
   * addresses, as in docker-compose.
   */
  @ValidateIf(
    (environment: ResourceServiceEnvironment) => environment.AUTH_SERVICE_URL !== undefined,
  )
  @IsUrl(HTTP_URL, { message: 'must be the http(s) base URL this service reaches auth-service at' })
  @Matches(/[^/]$/, { message: 'must not end with a slash' })
  AUTH_SERVICE_URL?: string;

  /** The OAuth client this service is when it calls auth-service as itself (client credentials). */
  @Matches(/^[a-z][a-z0-9._-]{1,63}$/, { message: 'must be a client id, e.g. resource-service' })
  AUTH_CLIENT_ID = 'resource-service';

  /**
   * That client's secret. Unset: the service makes no calls of its own to auth-service: it does
   * not follow the revocation feed (a revoked session's tokens work until they expire), and
   * DELETE /notes answers 503. `npm start` and docker-compose set it.
   */
  @ValidateIf(
    (environment: ResourceServiceEnvironment) => environment.AUTH_CLIENT_SECRET !== undefined,
  )
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
}

/** The only place resource-service reads process.env. */
export const resourceServiceConfig = registerAs('resource-service', () =>
  validateEnvironment(ResourceServiceEnvironment, process.env),
);

/** Read only when the service runs its own embedded PostgreSQL (DATABASE_URL unset). */
export const DEVELOPMENT_ONLY_VARIABLES = ['DATA_DIR'];
