import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { injectTraceContext, runWithTraceContext } from './trace-context';

const exporter = new InMemorySpanExporter();
// The SDK as a service starts it (context manager, W3C propagator), its spans kept in memory.
const sdk = new NodeSDK({
  spanProcessors: [new SimpleSpanProcessor({ exporter })],
  instrumentations: [],
  metricReaders: [],
  logRecordProcessors: [],
  autoDetectResources: false,
});
const tracer = trace.getTracer('trace-context.spec');
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

beforeAll(() => sdk.start());
afterAll(() => sdk.shutdown());
beforeEach(() => exporter.reset());

describe('injectTraceContext', () => {
  it("writes the running span's traceparent into the headers it is given", () => {
    tracer.startActiveSpan('publish', (span) => {
      const headers = injectTraceContext({ 'content-type': 'application/json' });
      span.end();
      expect(headers).toEqual({
        'content-type': 'application/json',
        traceparent: `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`,
      });
    });
  });

  it('writes nothing outside a span', () => {
    expect(injectTraceContext()).toEqual({});
  });
});

describe('runWithTraceContext', () => {
  it("runs the handler in a consumer span of the publisher's trace, and returns its result", async () => {
    const headers = tracer.startActiveSpan('publish', (span) => {
      span.end();
      return injectTraceContext();
    });
    const [, traceId, parentSpanId] = TRACEPARENT.exec(headers['traceparent'] ?? '') ?? [];

    let activeTraceId: string | undefined;
    const result = await runWithTraceContext(
      headers,
      'user.disabled process',
      async () => {
        await new Promise((resolve) => setImmediate(resolve));
        activeTraceId = trace.getActiveSpan()?.spanContext().traceId;
        return 'handled';
      },
      { 'messaging.system': 'nats' },
    );

    expect(result).toBe('handled');
    expect(activeTraceId).toBe(traceId);
    const consumer = exporter.getFinishedSpans().find((s) => s.name === 'user.disabled process');
    expect({
      traceId: consumer?.spanContext().traceId,
      parent: consumer?.parentSpanContext?.spanId,
      kind: consumer?.kind,
      attributes: consumer?.attributes,
    }).toEqual({
      traceId,
      parent: parentSpanId,
      kind: SpanKind.CONSUMER,
      attributes: { 'messaging.system': 'nats' },
    });
  });

  it('reads the header whatever the case of its name', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const seen = await runWithTraceContext(
      { Traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      'process',
      () => trace.getActiveSpan()?.spanContext().traceId,
    );
    expect(seen).toBe(traceId);
  });

  it('starts a trace of its own from headers without a valid traceparent', async () => {
    const seen = await runWithTraceContext(
      { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' },
      'process',
      () => trace.getActiveSpan()?.spanContext().traceId,
    );
    const [span] = exporter.getFinishedSpans();
    expect(seen).toMatch(/^[0-9a-f]{32}$/);
    expect(seen).not.toBe('00000000000000000000000000000000');
    expect(span?.parentSpanContext).toBeUndefined();
  });

  it('records a failure on the span, ends it and throws the error on', async () => {
    await expect(
      runWithTraceContext({}, 'process', () => {
        throw new Error('the handler failed');
      }),
    ).rejects.toThrow('the handler failed');
    const [span] = exporter.getFinishedSpans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.events.map((event) => event.name)).toEqual(['exception']);
  });
});
