import { RequestMethod } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { Params } from 'nestjs-pino';
import { pino } from 'pino';
import type { DestinationStream, Level, Logger as PinoInstance } from 'pino';
import type { HttpServiceEnvironment } from '../config/service-environment';
import { requestIdOf } from '../http/fastify-adapter';
import { REDACTED_LOG_PATHS, serializeRequest } from './log-redaction';
import type { SerializedRequest } from './log-redaction';

/** A health probe every few seconds is no news: only its failures are logged. */
const QUIET_PATHS = /^\/health\/(live|ready)(\?|$)/;

/**
 * The pino logger of a service: one JSON object a line on stdout (`level`, `time`, `msg`, the
 * Nest `context`, and `reqId` inside a request), at LOG_LEVEL and above, with the paths of
 * {@link REDACTED_LOG_PATHS} replaced by `[Redacted]`. In development (NODE_ENV=development) the
 * lines are pretty-printed by pino-pretty, a development dependency loaded only then: production
 * images do not have it, and nothing else needs it. It is a stream in this thread, not a pino
 * transport, because a transport loads files by path in a worker, which a webpack bundle does
 * not ship.
 */
export function createServiceLogger(
  environment: Pick<HttpServiceEnvironment, 'LOG_LEVEL' | 'NODE_ENV'>,
  destination: DestinationStream = process.stdout,
): PinoInstance {
  return pino(
    {
      level: environment.LOG_LEVEL satisfies Level,
      redact: { paths: [...REDACTED_LOG_PATHS], censor: '[Redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names, not numbers: what log collectors and people grep for.
      formatters: { level: (label) => ({ level: label }) },
    },
    environment.NODE_ENV === 'development'
      ? (prettyStream(destination) ?? destination)
      : destination,
  );
}

/**
 * nestjs-pino's parameters: pino-http logs one line per finished request (`request completed`,
 * with method, path, status and `responseTime`; `request errored` at error level for a 5xx) and
 * binds `reqId` to every line logged while the request is handled. The request id is the one
 * Fastify gave the request (`x-request-id` when it is short and plain, else a UUID), the same the
 * response echoes.
 */
export function serviceLoggerParams(
  environment: Pick<HttpServiceEnvironment, 'LOG_LEVEL' | 'NODE_ENV'>,
  destination?: DestinationStream,
): Params {
  return {
    // Every path, in path-to-regexp 8's syntax (nestjs-pino's default `*` makes Nest 11 warn).
    forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
    pinoHttp: {
      logger: createServiceLogger(environment, destination),
      genReqId: (request: IncomingMessage & { id?: unknown }) =>
        typeof request.id === 'string' ? request.id : requestIdOf(request),
      // Lines logged during the request carry `reqId` only; the request's own line has `req` too.
      quietReqLogger: true,
      customLogLevel: (
        request: IncomingMessage & { originalUrl?: string },
        response: ServerResponse,
        error?: Error,
      ) => {
        if (error || response.statusCode >= 500) return 'error';
        // originalUrl: the middleware sees `url` with the part its route matched taken off.
        const quiet = QUIET_PATHS.test(request.originalUrl ?? request.url ?? '');
        return quiet && response.statusCode < 400 ? 'silent' : 'info';
      },
      serializers: {
        req: (request: SerializedRequest) => serializeRequest(request),
        // The status only: response headers may set a cookie holding a refresh token.
        res: (response: { statusCode?: number }) => ({ statusCode: response.statusCode }),
      },
    },
  };
}

/**
 * pino-pretty, resolved from the running bundle's own node_modules, or undefined when it is not
 * installed (a production install run with NODE_ENV=development): then the lines stay JSON.
 * Its formatter is used synchronously, so the last lines before an exit are not lost. The name is
 * a variable so that webpack and the build's package.json leave it out.
 */
function prettyStream(destination: DestinationStream): DestinationStream | undefined {
  const name = 'pino-pretty';
  const from = resolve(process.argv[1] ?? join(process.cwd(), 'index.js'));
  let prettyFactory: (options: object) => (line: string) => string;
  try {
    ({ prettyFactory } = createRequire(from)(name) as { prettyFactory: typeof prettyFactory });
  } catch {
    return undefined;
  }
  const prettify = prettyFactory({
    colorize: process.stdout.isTTY === true,
    ignore: 'pid,hostname,context',
    translateTime: 'SYS:HH:MM:ss.l',
    messageFormat: '{if context}[{context}] {end}{msg}',
  });
  return { write: (line: string) => destination.write(prettify(line)) };
}
