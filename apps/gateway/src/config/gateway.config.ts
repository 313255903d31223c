import { registerAs } from '@nestjs/config';
import { withAuthEnvironment } from '@tessera/auth-resource-server';
import { CommaSeparated, HttpServiceEnvironment, validateEnvironment } from '@tessera/platform';
import { Type } from 'class-transformer';
import { IsIn, IsInt, Matches, Max, Min, ValidateBy } from 'class-validator';

/**
 * Every variable the gateway reads; `.env.example` documents each one. The AUTH_* ones come from
 * `@tessera/auth`: the edge verifies tokens like every service and, with AUTH_CLIENT_SECRET, follows
 * the revocation feed as the `gateway` client. What it routes where is data, in routes.json.
 */
export class GatewayEnvironment extends withAuthEnvironment(HttpServiceEnvironment, {
  audience: 'gateway',
}) {
  override PORT = 3000;

  /**
   * A service's base URL when not made from UPSTREAM_URL_TEMPLATE: `name=url` pairs,
   * comma-separated (`resource-service=http://10.0.0.7:3002`). `npm start` sets every service's.
   */
  @CommaSeparated()
  @Matches(/^[a-z][a-z0-9-]*=https?:\/\/[A-Za-z0-9.:[\]-]+$/, {
    each: true,
    message: 'must be name=url pairs such as resource-service=http://127.0.0.1:3002',
  })
  UPSTREAMS: string[] = [];

  /**
   * Every other service's base URL, from its name and its port in routes.json: docker-compose
   * sets `http://{service}:{port}` (the internal network's names).
   */
  @Matches(/^https?:\/\/[A-Za-z0-9.{}[\]:-]+$/, {
    message: 'must be a base URL with {service} and/or {port}, e.g. http://{service}:{port}',
  })
  UPSTREAM_URL_TEMPLATE = 'http://127.0.0.1:{port}';

  /** Milliseconds a service may take to answer before the gateway answers 504. */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number of milliseconds from 100 to 300000' })
  @Min(100, { message: 'must be a whole number of milliseconds from 100 to 300000' })
  @Max(300_000, { message: 'must be a whole number of milliseconds from 100 to 300000' })
  UPSTREAM_TIMEOUT = 30_000;

  /** Requests per caller per RATE_LIMIT_WINDOW on a route without a rateLimit of its own. */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number of requests from 1 to 1000000' })
  @Min(1, { message: 'must be a whole number of requests from 1 to 1000000' })
  @Max(1_000_000, { message: 'must be a whole number of requests from 1 to 1000000' })
  RATE_LIMIT_MAX = 600;

  /** The window of every rate limit, in seconds. */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number of seconds from 1 to 86400' })
  @Min(1, { message: 'must be a whole number of seconds from 1 to 86400' })
  @Max(86_400, { message: 'must be a whole number of seconds from 1 to 86400' })
  RATE_LIMIT_WINDOW = 60;

  /**
   * `reference`: phantom-token mode (docs/adr/0012-gateway-at-the-edge.md). auth-service hands
   * users opaque reference tokens (its own ACCESS_TOKEN_FORMAT, the same value in compose); the
   * gateway swaps each for the JWT it stands for at `/oauth/introspect`, as the `gateway` client
   * with `tokens:phantom`, caches it until it expires and forwards the JWT. A JWT from outside
   * gets 401 (it can only have leaked from behind the gateway).
   * `jwt` (default): a token that is not a JWT is refused at the edge without asking anyone.
   */
  @IsIn(['jwt', 'reference'], { message: 'must be jwt or reference' })
  @ValidateBy({
    name: 'referenceNeedsClientSecret',
    validator: {
      validate: (format: unknown, args) =>
        format !== 'reference' ||
        (args?.object as GatewayEnvironment | undefined)?.AUTH_CLIENT_SECRET !== undefined,
      defaultMessage: () =>
        'reference needs AUTH_CLIENT_SECRET: the gateway swaps reference tokens as its client',
    },
  })
  ACCESS_TOKEN_FORMAT: 'jwt' | 'reference' = 'jwt';
}

/** The only place the gateway reads process.env. */
export const gatewayConfig = registerAs('gateway', () =>
  validateEnvironment(GatewayEnvironment, process.env),
);

/** UPSTREAMS as a map from service name to URL. */
export function namedUpstreams(environment: GatewayEnvironment): Map<string, string> {
  return new Map(environment.UPSTREAMS.map((pair) => pair.split(/=(.*)/s, 2) as [string, string]));
}
