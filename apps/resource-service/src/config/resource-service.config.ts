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
   * Where the keys are fetched. Unset: `<AUTH_ISSUER>/.well-known/jwks.json`. Set it when the
   * service reaches auth-service at another address than clients do (docker-compose).
   */
  @ValidateIf((environment: ResourceServiceEnvironment) => environment.AUTH_JWKS_URI !== undefined)
  @IsUrl(HTTP_URL, { message: 'must be the http(s) URL of auth-service’s JWKS' })
  AUTH_JWKS_URI?: string;

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
