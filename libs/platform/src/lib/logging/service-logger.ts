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
