import type { LoggerService } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger as NestPinoLogger, PinoLogger } from 'nestjs-pino';
import type { Level, Logger as PinoInstance } from 'pino';
import { serializeRequest } from './log-redaction';

/** A health probe every few seconds is no news: only its failures are logged. */
const QUIET_ROUTES = new Set(['/health/live', '/health/ready']);

/**
 * The request being handled, for the lines code logs while it runs. Its child logger (the one
 * that adds `reqId`) is made on the first line only: most requests log nothing but their own
 * line, which needs no child.
 */
class RequestScope {
  private child?: PinoInstance;

  constructor(
    private readonly root: PinoInstance,
    private readonly requestId: string,
  ) {}

  get logger(): PinoInstance {
    return (this.child ??= this.root.child({ reqId: this.requestId }));
  }
}

const requestScope = new AsyncLocalStorage<RequestScope>();

/**
 * nestjs-pino's PinoLogger on this application's pino logger, or on the request's child of it
 * while a request is handled. nestjs-pino's own scope is entered by its Nest middleware, which on
 * Fastify runs through @fastify/middie after pino-http: together they cost a small route about
 * 60 % of its throughput (docs/performance.md). {@link registerRequestLogging} enters this one
 * from a Fastify hook instead.
 */
class RequestScopedPinoLogger extends PinoLogger {
  constructor(private readonly root: PinoInstance) {
    super({ pinoHttp: { logger: root } });
  }

  override get logger(): PinoInstance {
    return requestScope.getStore()?.logger ?? this.root;
  }
}

/**
 * The Nest logger of an application (`NestFactory.create(…, { logger })`): every
 * `new Logger(Class.name)` line goes to `root` as JSON with its `context`, and with the request's
 * `reqId` when it is logged while a request is handled. nestjs-pino's Logger maps Nest's
 * arguments (a context last, an error's stack) onto pino's.
 */
export function createNestLogger(root: PinoInstance): LoggerService {
  return new NestPinoLogger(new RequestScopedPinoLogger(root), {});
}

/**
 * Request logging on the application's Fastify instance:
 * - from `preHandler` on, everything Nest runs for the request (guards, pipes, the handler,
 *   exception filters) logs with the request's `reqId`. Not from `onRequest`: a body is read in
 *   the socket's events, which would run outside a scope entered before it.
 * - one line per finished request, `request completed` (`request errored` at `error` for a 5xx,
 *   as pino-http names them): `reqId`, the request as {@link serializeRequest} logs it (no query
 *   values, no credential headers), the matched route's pattern, the status and `responseTime` in
 *   milliseconds; none for a health probe that succeeded. Below LOG_LEVEL it costs a level check.
 *
 * The request id is the one Fastify gave the request (`x-request-id` when it is short and plain,
 * else a UUID), the one the response echoes.
 */
export function registerRequestLogging(app: NestFastifyApplication, root: PinoInstance): void {
  const fastify = app.getHttpAdapter().getInstance();
  // Callback hooks, not async ones: no promise per request for work that is synchronous.
  fastify.addHook('preHandler', (request, _reply, done) => {
    requestScope.run(new RequestScope(root, request.id), done);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const route = request.routeOptions.url;
    const level: Level | undefined =
      status >= 500
        ? 'error'
        : status < 400 && route !== undefined && QUIET_ROUTES.has(route)
          ? undefined
          : 'info';
    if (level !== undefined && root.isLevelEnabled(level)) {
      root[level](
        {
          reqId: request.id,
          req: serializeRequest({
            method: request.method,
            url: request.url,
            headers: request.headers,
            remoteAddress: request.ip,
          }),
          route,
          res: { statusCode: status },
          responseTime: Math.round(reply.elapsedTime * 10) / 10,
        },
        status >= 500 ? 'request errored' : 'request completed',
      );
    }
    done();
  });
}
