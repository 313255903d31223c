import type { Attributes, TextMapGetter } from '@opentelemetry/api';
import type * as OpenTelemetryApi from '@opentelemetry/api';

/**
 * A message's headers as plain strings (NATS headers copied into an object, an outbox row's
 * JSON column). Names are matched without regard to case when read.
 */
export type TraceHeaders = Record<string, string>;

const TRACER_NAME = '@tessera/platform';

/** Where @opentelemetry/api keeps what the SDK registered; absent until then (tracing off). */
const REGISTERED = Symbol.for('opentelemetry.js.api.1');

/**
 * The OpenTelemetry API once the SDK has registered with it, else undefined: with tracing off
 * these functions load nothing and do nothing (docs/observability.md, "What it costs").
 */
function registeredApi(): typeof OpenTelemetryApi | undefined {
  return REGISTERED in globalThis
    ? (require('@opentelemetry/api') as typeof OpenTelemetryApi)
    : undefined;
}

const headersGetter: TextMapGetter<Readonly<Record<string, string | undefined>>> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => {
    const exact = headers[key];
    if (exact !== undefined) return exact;
    const found = Object.keys(headers).find((name) => name.toLowerCase() === key);
    return found === undefined ? undefined : headers[found];
  },
};

/**
 * Writes the W3C trace context of the span running now (`traceparent`, and `tracestate` when it
 * has one) into `headers` and returns them: what a message published by hand needs so that its
 * consumer joins the same trace, since OpenTelemetry does not instrument Nest's message
 * transports. Call it where the work happens (for an outbox, when the row is written, not when a
 * relay sends it later). With tracing off, or outside any span, `headers` are left as they are.
 *
 * @example
 *   const headers = injectTraceContext({});
 *   // { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }
 */
export function injectTraceContext(headers: TraceHeaders = {}): TraceHeaders {
  const api = registeredApi();
  api?.propagation.inject(api.context.active(), headers);
  return headers;
}

/**
 * Runs `handle` in a new consumer span (`spanName`, with `attributes`) that continues the trace
 * whose context `headers` carry (see {@link injectTraceContext}): the span, and every span and
 * log line made while `handle` runs, have the publisher's trace id. Headers without a valid
 * `traceparent` start a trace of their own. The span ends when `handle` settles; a failure is
 * recorded on it and thrown on. With tracing off `handle` simply runs.
 *
 * @example
 *   await runWithTraceContext(headers, 'user.disabled process', () => this.hideNotes(event), {
 *     'messaging.system': 'nats',
 *   });
 */
export async function runWithTraceContext<T>(
  headers: Readonly<Record<string, string | undefined>>,
  spanName: string,
  handle: () => T | Promise<T>,
  attributes: Attributes = {},
): Promise<T> {
  const api = registeredApi();
  if (api === undefined) return handle();
  const { context, propagation, SpanKind, SpanStatusCode, trace } = api;
  const parent = propagation.extract(context.active(), headers, headersGetter);
  return trace
    .getTracer(TRACER_NAME)
    .startActiveSpan(spanName, { kind: SpanKind.CONSUMER, attributes }, parent, async (span) => {
      try {
        return await handle();
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    });
}
