import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import type { DestinationStream, Level, Logger as PinoInstance } from 'pino';
import type { HttpServiceEnvironment } from '../config/service-environment';
import { REDACTED_LOG_PATHS } from './log-redaction';

/**
 * The pino logger of a service: one JSON object a line on stdout (`level`, `time`, `msg`, the
 * Nest `context`, and `reqId` inside a request), at LOG_LEVEL and above, with the paths of
 * {@link REDACTED_LOG_PATHS} replaced by `[Redacted]`. In development (NODE_ENV=development) the
 * lines are pretty-printed by pino-pretty, a finished request is one line
 * (`GET /notes 200 in 3.1 ms <reqId>`, see {@link compactRequestLine}), and Nest's list of its
 * modules and routes at start-up is left out (/docs lists the routes); pino-pretty is a
 * development dependency loaded only then: production
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
  return {
    write: (line: string) => {
      if (!isStartUpDetail(line)) destination.write(prettify(compactRequestLine(line)));
    },
  };
}

/** Nest's start-up lines that list every module and route: some 40 lines a service, no news. */
const START_UP_DETAIL =
  /"level":"info".*"context":"(InstanceLoader|RoutesResolver|RouterExplorer)"/;

function isStartUpDetail(line: string): boolean {
  return START_UP_DETAIL.test(line);
}

/**
 * A request's line (see registerRequestLogging) with its request, route, status and time folded
 * into the message, which pino-pretty would otherwise spread over some 18 lines. Other lines are
 * returned as they are.
 */
export function compactRequestLine(line: string): string {
  if (!line.includes('"responseTime"')) return line;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const request = entry['req'] as { method?: string; url?: string } | undefined;
  const status = (entry['res'] as { statusCode?: number } | undefined)?.statusCode;
  if (request === undefined || status === undefined) return line;
  const failed = entry['msg'] === 'request errored' ? ' (request errored)' : '';
  const message = `${request.method} ${request.url} ${status} in ${String(entry['responseTime'])} ms${failed}  ${String(entry['reqId'])}`;
  const compact: Record<string, unknown> = { ...entry, msg: message };
  for (const key of ['req', 'res', 'route', 'responseTime', 'reqId']) delete compact[key];
  return `${JSON.stringify(compact)}\n`;
}
