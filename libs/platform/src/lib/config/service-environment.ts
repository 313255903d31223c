import 'reflect-metadata';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { CommaSeparated } from './comma-separated.decorator';
import { HttpsInProduction } from './https-in-production.decorator';
import { IsPostgresUrl } from './is-postgres-url.decorator';
import { TracingEnvironment } from './tracing-environment';

export const NODE_ENVIRONMENTS = ['development', 'production', 'test'] as const;
export type NodeEnvironment = (typeof NODE_ENVIRONMENTS)[number];

/** An unset METRICS_PORT is PORT plus this. */
export const METRICS_PORT_OFFSET = 6000;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The variables every Tessera service reads, database or not, the tracing ones included (read
 * before Nest starts, by startTracing). A stateless service's environment class extends this one;
 * a service with a database extends ServiceEnvironment. `PORT` gets the service's default there.
 */
export class HttpServiceEnvironment extends TracingEnvironment {
  @IsIn(NODE_ENVIRONMENTS, { message: `must be one of ${NODE_ENVIRONMENTS.join(', ')}` })
  NODE_ENV: NodeEnvironment = 'development';

  @Type(() => Number)
  @IsInt({ message: 'must be a whole number from 1 to 65535' })
  @Min(1, { message: 'must be a whole number from 1 to 65535' })
  @Max(65535, { message: 'must be a whole number from 1 to 65535' })
  PORT = 3000;

  /** 127.0.0.1 by default so a development machine exposes nothing; containers set 0.0.0.0. */
  @IsString()
  @MinLength(1)
  HOST = '127.0.0.1';

  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: LogLevel = 'info';

  /** Largest request body in bytes; larger ones get 413. Auth payloads are small. */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number of bytes from 1024 to 10485760' })
  @Min(1024, { message: 'must be a whole number of bytes from 1024 to 10485760' })
  @Max(10 * 1024 * 1024, { message: 'must be a whole number of bytes from 1024 to 10485760' })
  BODY_LIMIT = 100 * 1024;

  /**
   * The proxies in front of the service whose X-Forwarded-For may be believed, so that the client
   * address (throttling, sessions, audit) is the caller's and not the load balancer's: a hop count
   * (`1`), or comma-separated addresses/CIDRs (`10.0.0.0/8,loopback`). Empty: trust no one.
   */
  @Matches(/^(\d{1,2}|[A-Za-z0-9.:/_-]+(\s*,\s*[A-Za-z0-9.:/_-]+)*)?$/, {
    message: 'must be a number of hops or comma-separated proxy addresses/CIDRs',
  })
  TRUST_PROXY = '';

  /**
   * The browser origins allowed to call this service from their pages (CORS), comma-separated
   * and exact (`https://app.example.com`). Empty: CORS stays closed, and browsers refuse
   * cross-origin calls. With NODE_ENV=production each must be https (or a loopback origin).
   */
  @CommaSeparated()
  @HttpsInProduction()
  @Matches(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/, {
    each: true,
    message:
      'must be comma-separated origins such as https://app.example.com (no path, no wildcard)',
  })
  CORS_ORIGINS: string[] = [];

  /**
   * The port of the metrics listener (`GET /metrics`, Prometheus), apart from PORT so that
   * publishing the API does not publish the metrics (docs/adr/0010). Unset: PORT + 6000 (3001 →
   * 9001); 0: no metrics listener.
   */
  @ValidateIf(
    (environment: HttpServiceEnvironment) =>
      environment.METRICS_PORT !== undefined ||
      // A PORT that is no port is PORT's problem alone.
      (environment.PORT <= 65535 && environment.PORT + METRICS_PORT_OFFSET > 65535),
  )
  @IsDefined({ message: `is required when PORT + ${METRICS_PORT_OFFSET} is above 65535` })
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number from 0 (off) to 65535' })
  @Min(0, { message: 'must be a whole number from 0 (off) to 65535' })
  @Max(65535, { message: 'must be a whole number from 0 (off) to 65535' })
  METRICS_PORT?: number;

  /** The interface of the metrics listener: loopback by default; a container sets 0.0.0.0. */
  @IsString()
  @MinLength(1)
  METRICS_HOST = '127.0.0.1';

  /** Milliseconds to finish in-flight requests on SIGTERM before the process gives up. */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number of milliseconds from 0 to 120000' })
  @Min(0, { message: 'must be a whole number of milliseconds from 0 to 120000' })
  @Max(120000, { message: 'must be a whole number of milliseconds from 0 to 120000' })
  SHUTDOWN_TIMEOUT = 10000;

  /**
   * The OpenAPI document at `/docs-json` and Swagger UI at `/docs`. Unset: on, except when
   * NODE_ENV=production (a public API may still want them: set `true`).
   */
  @Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  )
  @ValidateIf((environment: HttpServiceEnvironment) => environment.API_DOCS !== undefined)
  @IsBoolean({ message: 'must be true or false' })
  // Initialised on purpose: without it class-transformer skips @Transform, and 'false' is true.
  API_DOCS: boolean | undefined = undefined;
}

/** Whether the service serves `/docs` and `/docs-json` (see HttpServiceEnvironment.API_DOCS). */
export function apiDocsEnabled(environment: HttpServiceEnvironment): boolean {
  return environment.API_DOCS ?? environment.NODE_ENV !== 'production';
}

/** The variables of a service that owns a PostgreSQL database: the HTTP ones and where it is. */
export class ServiceEnvironment extends HttpServiceEnvironment {
  /**
   * Unset: the service starts its own embedded PostgreSQL under DATA_DIR (development, tests).
   * Production images leave those binaries out, so there it is required.
   */
  @ValidateIf(
    (environment: ServiceEnvironment) =>
      environment.NODE_ENV === 'production' || environment.DATABASE_URL !== undefined,
  )
  @IsDefined({
    message: 'is required when NODE_ENV=production (the embedded PostgreSQL is for development)',
  })
  @IsPostgresUrl()
  // With DATABASE_PASSWORD, the URL the service connects to carries that password.
  @Transform(({ value, obj }: { value: unknown; obj: Record<string, unknown> }) =>
    withPassword(value, obj['DATABASE_PASSWORD']),
  )
  DATABASE_URL?: string;

  /**
   * The password of DATABASE_URL's user, for a URL written without one: docker-compose keeps the
   * generated database password in a secrets file (DATABASE_PASSWORD_FILE) rather than in the URL
   * it writes into the service's environment. Set, it replaces any password the URL has.
   */
  @IsOptional()
  @IsString()
  DATABASE_PASSWORD?: string;

  /**
   * Where migrations run, as the role that owns the schema (docs/security-model.md, "Database
   * roles"); DATABASE_URL's role then gets only the privileges the service needs, granted at
   * every start, and can neither change the schema nor switch off a trigger. Unset: migrations
   * run over DATABASE_URL, whose role must then own the schema. Requires DATABASE_URL.
   */
  @ValidateIf((environment: ServiceEnvironment) => environment.DATABASE_MIGRATION_URL !== undefined)
  @IsPostgresUrl()
  @Transform(({ value, obj }: { value: unknown; obj: Record<string, unknown> }) =>
    withPassword(value, obj['DATABASE_MIGRATION_PASSWORD']),
  )
  DATABASE_MIGRATION_URL?: string;

  /** The password of DATABASE_MIGRATION_URL's user, as DATABASE_PASSWORD is DATABASE_URL's. */
  @IsOptional()
  @IsString()
  DATABASE_MIGRATION_PASSWORD?: string;

  /**
   * How many times the service tries to reach PostgreSQL at start-up (its pool, and the migration
   * role's connection) before it exits 1. docker-compose.yml leaves it at the default: there a
   * service starts only once PostgreSQL is healthy.
   */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number from 1 to 100' })
  @Min(1, { message: 'must be a whole number from 1 to 100' })
  @Max(100, { message: 'must be a whole number from 1 to 100' })
  DATABASE_CONNECT_ATTEMPTS = 5;

  /** Milliseconds between two of those tries. Left at the default by docker-compose.yml. */
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number of milliseconds from 0 to 60000' })
  @Min(0, { message: 'must be a whole number of milliseconds from 0 to 60000' })
  @Max(60000, { message: 'must be a whole number of milliseconds from 0 to 60000' })
  DATABASE_CONNECT_RETRY_DELAY = 2000;

  @IsString()
  @MinLength(1)
  DATA_DIR = '.data';
}

/** `url` with `password` as its password (percent-encoded); anything else unchanged. */
function withPassword(url: unknown, password: unknown): unknown {
  if (typeof url !== 'string' || typeof password !== 'string' || password === '') return url;
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

/** The metrics listener's port: METRICS_PORT, else PORT + 6000; 0 means none. */
export function metricsPortOf(environment: HttpServiceEnvironment): number {
  return environment.METRICS_PORT ?? environment.PORT + METRICS_PORT_OFFSET;
}
