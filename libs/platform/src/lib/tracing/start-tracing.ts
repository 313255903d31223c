import type { DiagLogger } from '@opentelemetry/api';
import type * as OpenTelemetryApi from '@opentelemetry/api';
import type * as Http from '@opentelemetry/instrumentation-http';
import type * as Nest from '@opentelemetry/instrumentation-nestjs-core';
import type * as Pg from '@opentelemetry/instrumentation-pg';
import type * as Pino from '@opentelemetry/instrumentation-pino';
import type * as Undici from '@opentelemetry/instrumentation-undici';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import type * as SdkNode from '@opentelemetry/sdk-node';
import type { IncomingMessage } from 'node:http';
import { EnvironmentValidationError } from '../config/environment-validation.error';
import { TracingEnvironment } from '../config/tracing-environment';
import { validateEnvironment } from '../config/validate-environment';
import { withoutQueryValues } from '../logging/log-redaction';
import { dropForwardedTraceHeaders } from './forwarded-trace-headers';

/** Probes and scrapes, every few seconds: no news, and no spans (as they get no log line). */
const UNTRACED_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

/** How long a stopping service waits for its last spans to reach the collector. */
const FLUSH_TIMEOUT_MS = 2000;

let sdk: NodeSDK | undefined;

/**
 * Starts OpenTelemetry tracing when OTEL_TRACES_EXPORTER asks for it (`otlp`, `console`,
 * `zipkin`), configured by the standard `OTEL_*` variables, with `serviceName` as the spans'
 * `service.name` unless OTEL_SERVICE_NAME says otherwise. It must run before anything it
 * instruments is loaded, since instrumentations patch modules as they are required: a service's
 * `main.ts` imports its `tracing.ts`, which calls this, before any other import. Instrumented:
 * incoming and outgoing HTTP (`traceparent` honoured and passed on), fetch (undici), Nest's
 * handlers, PostgreSQL queries made inside a trace, and pino, whose lines get `trace_id` and
 * `span_id`. Off (the default), it returns at once and loads nothing. A bad variable ends the
 * process with exit code 1 and a message naming it, as a service's own configuration does.
 */
export function startTracing(
  serviceName: string,
  source: Record<string, string | undefined> = process.env,
): void {
  if (sdk !== undefined || !asked(source)) return;
  let environment: TracingEnvironment;
  try {
    environment = validateEnvironment(TracingEnvironment, source);
  } catch (error) {
    if (!(error instanceof EnvironmentValidationError)) throw error;
    process.stderr.write(`${serviceName}: ${error.message}\n`);
    process.exit(1);
  }
  if (environment.OTEL_TRACES_EXPORTER === 'none') return;
  // The SDK reads the environment itself: give it the values read from X_FILE too.
  for (const [name, value] of Object.entries(environment)) {
    if (value !== undefined) process.env[name] = String(value);
  }
  sdk = createSdk(environment.OTEL_SERVICE_NAME ?? serviceName, source);
  sdk.start();
}

/** Whether {@link startTracing} has started the SDK in this process. */
export function tracingStarted(): boolean {
  return sdk !== undefined;
}

/**
 * Exports the spans still buffered and stops tracing; bootstrapService calls it on shutdown,
 * after the application has closed. Nothing to do when tracing is off.
 */
export async function stopTracing(): Promise<void> {
  const stopping = sdk;
  sdk = undefined;
  if (stopping === undefined) return;
  // A collector out of reach must not hold the process past its SHUTDOWN_TIMEOUT: those spans
  // are given up after FLUSH_TIMEOUT_MS.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    stopping.shutdown().catch(() => undefined),
    new Promise((given) => (timer = setTimeout(given, FLUSH_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
}

function asked(source: Record<string, string | undefined>): boolean {
  if (source['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return false;
  const exporter = source['OTEL_TRACES_EXPORTER']?.trim();
  return (exporter !== undefined && exporter !== '') || !!source['OTEL_TRACES_EXPORTER_FILE'];
}

/**
 * The SDK with the instrumentations, loaded only now: with tracing off none of it is required.
 * `require` on purpose: an `import` would load it with the bundle, and `import()` would patch
 * too late (after main.ts's next imports).
 */
function createSdk(serviceName: string, source: Record<string, string | undefined>): NodeSDK {
  const { diag, DiagLogLevel } = require('@opentelemetry/api') as typeof OpenTelemetryApi;
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof SdkNode;
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof Http;
  const { UndiciInstrumentation } =
    require('@opentelemetry/instrumentation-undici') as typeof Undici;
  const { NestInstrumentation } =
    require('@opentelemetry/instrumentation-nestjs-core') as typeof Nest;
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof Pg;
  const { PinoInstrumentation } = require('@opentelemetry/instrumentation-pino') as typeof Pino;

  // The SDK's own warnings (a collector out of reach, spans dropped) as JSON lines like the
  // service's; OTEL_LOG_LEVEL replaces this with the SDK's console logger at that level.
  if (!source['OTEL_LOG_LEVEL']) diag.setLogger(jsonDiagLogger(), DiagLogLevel.WARN);
  return new NodeSDK({
    serviceName,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has(pathOf(request)),
        // As in the logs, a query's parameter names only: a client may put a token there (R4).
        startIncomingSpanHook: (request) => queryAttributes(request.url ?? ''),
      }),
      new UndiciInstrumentation({
        requestHook: (span, request) => {
          // The gateway forwards its clients' queries: their values stay out of the spans too.
          span.setAttributes(queryAttributes(request.path, request.origin));
          // And their traceparent, which this process's own (the client span) replaces.
          dropForwardedTraceHeaders(request);
        },
      }),
      new NestInstrumentation(),
      // Queries of a request or a message, not the background jobs' polling; no parameter values.
      new PgInstrumentation({ requireParentSpan: true }),
      // The mixin that adds trace_id and span_id to every line; the lines stay on stdout only.
      new PinoInstrumentation({ disableLogSending: true }),
    ],
    // Metrics are Prometheus' (GET /metrics); logs are the JSON lines on stdout.
    metricReaders: [],
    logRecordProcessors: [],
  });
}

/** `url.query` (and with `origin`, `url.full`) with the query's parameter names only. */
function queryAttributes(path: string, origin?: string): Record<string, string> {
  const start = path.indexOf('?');
  if (start === -1) return {};
  const redacted = withoutQueryValues(path);
  const query = { 'url.query': redacted.slice(start + 1) };
  return origin === undefined ? query : { ...query, 'url.full': `${origin}${redacted}` };
}

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function jsonDiagLogger(): DiagLogger {
  const write =
    (level: string) =>
    (message: string, ...args: unknown[]) => {
      const detail = args.map((arg) => (arg instanceof Error ? arg.message : String(arg)));
      const msg = [message, ...detail].join(' ');
      const time = new Date().toISOString();
      process.stdout.write(`${JSON.stringify({ level, time, context: 'OpenTelemetry', msg })}\n`);
    };
  return {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    debug: write('debug'),
    verbose: write('trace'),
  };
}
