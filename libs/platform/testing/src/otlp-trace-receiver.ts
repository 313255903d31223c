import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A finished span as a service exported it. */
export interface ReceivedSpan {
  /** The `service.name` of the process that made it. */
  service: string;
  traceId: string;
  spanId: string;
  /** Absent on a trace's first span. */
  parentSpanId?: string;
  name: string;
  /** OTLP's span kind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, unknown>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        startTimeUnixNano: string;
        endTimeUnixNano: string;
        attributes?: OtlpAttribute[];
      }[];
    }[];
  }[];
}

/**
 * An OpenTelemetry collector's trace endpoint in memory: what built services export with
 * `OTEL_TRACES_EXPORTER=otlp`, `OTEL_EXPORTER_OTLP_PROTOCOL=http/json` and
 * `OTEL_EXPORTER_OTLP_ENDPOINT` = {@link endpoint}, kept as {@link spans} for a test to read. The
 * services run exactly as in production, their exporter included.
 */
export class OtlpTraceReceiver {
  private constructor(
    private readonly server: Server,
    /** The base URL to give services as OTEL_EXPORTER_OTLP_ENDPOINT. */
    readonly endpoint: string,
    /** Every span received so far, in the order they came. */
    readonly spans: ReceivedSpan[],
  ) {}

  static async start(): Promise<OtlpTraceReceiver> {
    const spans: ReceivedSpan[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.method !== 'POST' || request.url !== '/v1/traces') {
          response.writeHead(404).end();
          return;
        }
        spans.push(...received(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    const { port } = server.address() as AddressInfo;
    return new OtlpTraceReceiver(server, `http://127.0.0.1:${port}`, spans);
  }

  /** The spans of `traceId` once `done` holds for them, polling; throws after `timeoutMs`. */
  async waitForTrace(
    traceId: string,
    done: (spans: ReceivedSpan[]) => boolean,
    timeoutMs = 20_000,
  ): Promise<ReceivedSpan[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const spans = this.spans.filter((span) => span.traceId === traceId);
      if (done(spans)) return spans;
      if (Date.now() > deadline) {
        const seen = spans.map((span) => `${span.service}: ${span.name}`).join('\n  ');
        throw new Error(`Trace ${traceId} incomplete after ${timeoutMs} ms; it has:\n  ${seen}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(): Promise<void> {
    await new Promise((closed) => this.server.close(closed));
  }
}

/** The spans of one export request (OTLP/JSON: ids in hex, times in nanoseconds as strings). */
function received(exported: OtlpExport): ReceivedSpan[] {
  return (exported.resourceSpans ?? []).flatMap(({ resource, scopeSpans }) => {
    const service = String(attributesOf(resource?.attributes)['service.name']);
    return (scopeSpans ?? [])
      .flatMap((scope) => scope.spans ?? [])
      .map((span) => ({
        service,
        traceId: span.traceId,
        spanId: span.spanId,
        ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
        name: span.name,
        kind: span.kind,
        startNs: BigInt(span.startTimeUnixNano),
        endNs: BigInt(span.endTimeUnixNano),
        attributes: attributesOf(span.attributes),
      }));
  });
}

function attributesOf(attributes: OtlpAttribute[] = []): Record<string, unknown> {
  return Object.fromEntries(
    attributes.map(({ key, value }) => [
      key,
      value.stringValue ??
        (value.intValue === undefined ? undefined : Number(value.intValue)) ??
        value.doubleValue ??
        value.boolValue,
    ]),
  );
}
