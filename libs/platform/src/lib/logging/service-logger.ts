import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import type {
  Bindings,
  ChildLoggerOptions,
  DestinationStream,
  Level,
  LogFn,
  Logger as PinoInstance,
} from 'pino';
import type { HttpServiceEnvironment } from '../config/service-environment';
import { redactSecrets } from './log-redaction';

/**
 * The pino logger of a service: one JSON object a line on stdout (`level`, `time`, `msg`, the
 * Nest `context`, and `reqId` inside a request), at LOG_LEVEL and above, with the paths of
 * REDACTED_LOG_PATHS (log-redaction.ts) replaced by `[Redacted]` ({@link redactSecrets}, on the
 * logged object, a child's bindings and objects interpolated into the message). Lines go to
 * stdout through pino's own synchronous writer (sonic-boom), which costs a line less than
 * `process.stdout`, a turn of the event loop's lines in one write, and loses none at an exit.
 *
 * In development (NODE_ENV=development) the lines are pretty-printed by pino-pretty, a finished
 * request is one line (`GET /notes 200 in 3.1 ms <reqId>`, see {@link compactRequestLine}), and
 * Nest's list of its modules and routes at start-up is left out (/docs lists the routes). On
 * stdout that happens in a worker thread, as pino's transports do: formatting a line costs more
 * than the request it describes (see {@link prettyTransport}). pino-pretty is a development
 * dependency loaded only then: production images do not have it, and nothing else needs it.
 * With a `destination` of the caller's (tests), the lines are formatted in this thread.
 */
export function createServiceLogger(
  environment: Pick<HttpServiceEnvironment, 'LOG_LEVEL' | 'NODE_ENV'>,
  destination?: DestinationStream,
): PinoInstance {
  const logger = pino(
    {
      level: environment.LOG_LEVEL satisfies Level,
      timestamp: isoTime,
      formatters: {
        // Level names, not numbers: what log collectors and people grep for.
        level: (label) => ({ level: label }),
        log: redactSecrets,
      },
      hooks: { logMethod: redactInterpolated },
    },
    environment.NODE_ENV === 'development'
      ? destination === undefined
        ? (prettyTransport() ?? stdout())
        : (prettyStream(destination) ?? destination)
      : (destination ?? stdout()),
  );
  // A child's bindings skip the formatters: redacted here, for its own children too (a child is
  // made from its parent's prototype, and inherits this).
  const child = logger.child as unknown as (
    this: PinoInstance,
    bindings: Bindings,
    options?: ChildLoggerOptions,
  ) => PinoInstance;
  logger.child = function (this: PinoInstance, bindings: Bindings, options?: ChildLoggerOptions) {
    return child.call(this, redactSecrets(bindings), options);
  } as unknown as typeof logger.child;
  return logger;
}

let batchedStdout: DestinationStream | undefined;

/**
 * File descriptor 1 through pino's synchronous writer (sonic-boom), one write per turn of the
 * event loop: the lines of the requests a turn answers (many, under load) are gathered here and
 * written together when the turn ends (`setImmediate`), or sooner once 8 KiB have gathered. A
 * write system call per line cost a small route about as much as the line's formatting. A line
 * waits for the end of the turn that logged it, not for a timer; everything gathered is written
 * at an exit, `process.exit()` and an uncaught exception included; only a SIGKILL can take the
 * last turn's lines with it. One writer per process, so that the lines of several applications
 * (tests) keep their order.
 *
 * The writer takes each turn's lines as one Buffer (its `contentMode: 'buffer'`) and writes it at
 * once: sonic-boom then retries a partial or busy write, and never calls `fsync`. Its string mode
 * would `fsync` descriptor 1 at every flush: a failed system call and a thrown error on a pipe
 * (about 6 µs a turn here), a flush to disk when stdout is a file (about 150 µs a turn here, more
 * on a slower disk), which a log line does not need: what was written is the kernel's to keep.
 */
function stdout(): DestinationStream {
  if (batchedStdout) return batchedStdout;
  const writer = pino.destination({ dest: 1, sync: true, contentMode: 'buffer' });
  // In its buffer mode sonic-boom's `write` takes a Buffer; its types describe the string mode.
  const write = writer.write.bind(writer) as unknown as (data: Buffer) => boolean;
  let gathered = '';
  let scheduled = false;
  const flush = () => {
    if (gathered === '') return;
    const lines = Buffer.from(gathered);
    gathered = '';
    write(lines);
  };
  const flushAtTurnEnd = () => {
    scheduled = false;
    flush();
  };
  process.once('exit', flush);
  batchedStdout = {
    write(line: string) {
      gathered += line;
      if (gathered.length >= 8192) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flushAtTurnEnd);
      }
    },
  };
  return batchedStdout;
}

let lastTimeMs = -1;
let lastTime = '';

/** pino's `isoTime`, made once a millisecond: under load many lines share one. */
function isoTime(): string {
  const now = Date.now();
  if (now !== lastTimeMs) {
    lastTimeMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

/** Objects interpolated into a message (`logger.info('%j', value)`) are redacted as well. */
function redactInterpolated(this: PinoInstance, args: Parameters<LogFn>, method: LogFn): void {
  for (let index = 1; index < args.length; index += 1) {
    if (typeof args[index] === 'object') args[index] = redactSecrets(args[index]);
  }
  method.apply(this, args);
}

/** pino-pretty's options, here and in the worker. */
const PRETTY_OPTIONS = {
  ignore: 'pid,hostname,context',
  translateTime: 'SYS:HH:MM:ss.l',
  messageFormat: '{if context}[{context}] {end}{msg}',
};

/**
 * The path of pino-pretty, resolved from the running bundle's own node_modules, or undefined when
 * it is not installed (a production install run with NODE_ENV=development): then the lines stay
 * JSON. The name is a variable so that webpack and the build's package.json leave it out.
 */
function prettyPath(): string | undefined {
  const name = 'pino-pretty';
  const from = resolve(process.argv[1] ?? join(process.cwd(), 'index.js'));
  try {
    return createRequire(from).resolve(name);
  } catch {
    return undefined;
  }
}

/**
 * pino-pretty on `destination`, in this thread; its formatter is used synchronously, so the last
 * lines before an exit are not lost.
 */
function prettyStream(destination: DestinationStream): DestinationStream | undefined {
  const path = prettyPath();
  if (path === undefined) return undefined;
  const { prettyFactory } = createRequire(path)(path) as {
    prettyFactory: (options: object) => (line: string) => string;
  };
  const prettify = prettyFactory({ ...PRETTY_OPTIONS, colorize: process.stdout.isTTY === true });
  return {
    write: (line: string) => {
      if (!isStartUpDetail(line)) destination.write(prettify(compactRequestLine(line)));
    },
  };
}

/**
 * A pino transport that pretty-prints to stdout in a worker thread: the request's thread only
 * copies each JSON line into a shared buffer. pino flushes it at an exit, so the last lines are
 * not lost. A transport is a file the worker loads by path, which the webpack bundle does not
 * ship: it is written from {@link prettyTransportSource} into a temporary folder, removed once
 * the worker has loaded it (or when the process ends first). Undefined without pino-pretty or a writable temporary folder (the lines are
 * then formatted in this thread).
 */
function prettyTransport(): DestinationStream | undefined {
  const path = prettyPath();
  if (path === undefined) return undefined;
  let folder: string;
  try {
    folder = mkdtempSync(join(tmpdir(), 'tessera-pretty-'));
    writeFileSync(join(folder, 'pretty-transport.cjs'), prettyTransportSource());
  } catch {
    return prettyStream(pino.destination({ dest: 1, sync: true }));
  }
  const remove = () => rmSync(folder, { recursive: true, force: true });
  const transport = pino.transport({
    target: join(folder, 'pretty-transport.cjs'),
    options: { prettyPath: path, colorize: process.stdout.isTTY === true, fd: 1 },
  });
  // Once the worker has loaded the module, the file has served: a process killed later leaves
  // nothing behind.
  transport.once('ready', remove);
  process.once('exit', remove);
  return transport;
}

/**
 * The transport's module: {@link compactRequestLine} and the start-up filter, then pino-pretty,
 * written synchronously to `fd` by sonic-boom (pino-pretty's own writer). Exported for its test.
 */
export function prettyTransportSource(): string {
  return `'use strict';
const { createRequire } = require('node:module');
const { Writable } = require('node:stream');
const START_UP_DETAIL = ${START_UP_DETAIL.toString()};
const PRETTY_OPTIONS = ${JSON.stringify(PRETTY_OPTIONS)};
${compactRequestLine.toString()}
module.exports = function prettyTransport({ prettyPath, colorize, fd }) {
  const load = createRequire(prettyPath);
  const { prettyFactory } = load(prettyPath);
  const SonicBoom = load('sonic-boom');
  const prettify = prettyFactory({ ...PRETTY_OPTIONS, colorize });
  const out = new SonicBoom({ fd, sync: true });
  let partial = '';
  return new Writable({
    write(chunk, _encoding, done) {
      const lines = (partial + chunk.toString()).split('\\n');
      partial = lines.pop();
      let text = '';
      for (const line of lines) {
        if (line !== '' && !START_UP_DETAIL.test(line)) text += prettify(compactRequestLine(line + '\\n'));
      }
      if (text !== '') out.write(text);
      done();
    },
  });
};
`;
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
