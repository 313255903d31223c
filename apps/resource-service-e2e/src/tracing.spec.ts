import { OtlpTraceReceiver } from '@tessera/platform-testing';
import type { ReceivedSpan } from '@tessera/platform-testing';
import { randomBytes } from 'node:crypto';
import { call, startTesseraSystem } from './support/tessera-system';
import type { TesseraSystem, TokenPair } from './support/tessera-system';

/**
 * Tracing of the built services (issue 23), on as an operator turns it on: the standard OTEL_*
 * variables, the OTLP exporter, here sending to an in-memory collector (OtlpTraceReceiver). A
 * caller's login and notes requests, all under its one `traceparent`, must come back as one
 * trace across auth-service and resource-service, the call resource-service makes to
 * auth-service included, and every log line of those requests must carry that trace id.
 */

let receiver: OtlpTraceReceiver;
let system: TesseraSystem;

beforeAll(async () => {
  receiver = await OtlpTraceReceiver.start();
  const tracing = {
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    // Export every 100 ms instead of 5 s: the test waits for the spans.
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
  system = await startTesseraSystem({
    authPort: 15530,
    resourcePort: 15531,
    name: 'tracing',
    authEnv: { ...tracing, METRICS_PORT: '0' },
    resourceEnv: { ...tracing, METRICS_PORT: '0' },
  });
});

afterAll(async () => {
  expect(await system?.stop()).toEqual([0, 0]);
  await receiver?.stop();
});

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** A request of the caller's trace, with a request id the test finds its log lines by. */
async function traced(
  url: string,
  method: string,
  options: { traceparent: string; requestId: string; token?: string; body?: object },
): Promise<{ status: number; body: Record<string, unknown> }> {
  const { traceparent, requestId, token, body } = options;
  const headers: Record<string, string> = { 'x-request-id': requestId, traceparent };
  if (token) headers['authorization'] = `Bearer ${token}`;
  if (body) headers['content-type'] = 'application/json';
  const response = await fetch(url, { method, headers, body: body && JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

function logLines(logs: string): Record<string, unknown>[] {
  return logs
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const serverSpan = (spans: ReceivedSpan[], service: string, method: string, route: string) =>
  spans.find(
    (span) =>
      span.service === service &&
      span.kind === 2 &&
      span.attributes['http.request.method'] === method &&
      span.attributes['http.route'] === route,
  );

describe('one trace across the services', () => {
  it("follows a login and a notes read and delete, with resource-service's call to auth-service, under the caller's trace id", async () => {
    const traceId = hex(16);
    const callerSpanId = hex(8);
    const traceparent = `00-${traceId}-${callerSpanId}-01`;
    const email = `tracing-${Date.now()}@example.com`;
    const password = 'correct horse battery staple';
    expect((await call(`${system.issuer}/auth/register`, 'POST', { email, password })).status).toBe(
      201,
    );

    const login = await traced(`${system.issuer}/auth/login`, 'POST', {
      traceparent,
      requestId: 'tracing-login',
      body: { email, password, resource: ['auth-service', 'resource-service'] },
    });
    expect(login.status).toBe(200);
    const { access_token: token } = login.body as unknown as TokenPair;
    const read = await traced(`${system.resourceUrl}/notes?limit=5`, 'GET', {
      traceparent,
      token,
      requestId: 'tracing-read',
    });
    expect(read.status).toBe(200);
    // Asks auth-service (introspection) first: a request that crosses from one service to the other.
    const purge = await traced(`${system.resourceUrl}/notes`, 'DELETE', {
      traceparent,
      token,
      requestId: 'tracing-delete',
    });
    expect(purge.status).toBe(200);

    const spans = await receiver.waitForTrace(
      traceId,
      (received) =>
        !!serverSpan(received, 'auth-service', 'POST', '/auth/login') &&
        !!serverSpan(received, 'resource-service', 'GET', '/notes') &&
        !!serverSpan(received, 'resource-service', 'DELETE', '/notes') &&
        !!serverSpan(received, 'auth-service', 'POST', '/oauth/introspect'),
    );

    // Named after its route, for the viewer.
    expect(serverSpan(spans, 'auth-service', 'POST', '/auth/login')?.name).toBe('POST /auth/login');
    // A query's parameter names only, as in the logs (R4).
    expect(serverSpan(spans, 'resource-service', 'GET', '/notes')?.attributes['url.query']).toBe(
      'limit',
    );
    // The caller's span is the parent of each request's server span.
    for (const [service, method] of [
      ['auth-service', 'POST'],
      ['resource-service', 'GET'],
      ['resource-service', 'DELETE'],
    ]) {
      const route = service === 'auth-service' ? '/auth/login' : '/notes';
      expect({
        service,
        method,
        parent: serverSpan(spans, service, method, route)?.parentSpanId,
      }).toEqual({ service, method, parent: callerSpanId });
    }
    // resource-service's fetch to auth-service carried the trace on: the introspection's server
    // span is the child of resource-service's client span.
    const introspection = serverSpan(spans, 'auth-service', 'POST', '/oauth/introspect');
    const outgoing = spans.find((span) => span.spanId === introspection?.parentSpanId);
    expect({ service: outgoing?.service, kind: outgoing?.kind }).toEqual({
      service: 'resource-service',
      kind: 3,
    });
    // Nest's handlers and the PostgreSQL queries of both services are in the trace too.
    for (const service of ['auth-service', 'resource-service']) {
      const names = spans.filter((span) => span.service === service).map((span) => span.name);
      expect({ service, nest: names.some((name) => /Controller\./.test(name)) }).toEqual({
        service,
        nest: true,
      });
      const queries = spans.filter(
        (span) => span.service === service && span.attributes['db.system.name'] === 'postgresql',
      );
      expect({ service, queries: queries.length > 0 }).toEqual({ service, queries: true });
    }

    // No span holds a credential (R27): not the password, the tokens or the client secret.
    const exported = JSON.stringify(receiver.spans, (_key, value: unknown) =>
      typeof value === 'bigint' ? String(value) : value,
    );
    const { refresh_token: refreshToken } = login.body as unknown as TokenPair;
    for (const secret of [password, token, refreshToken, system.clientSecret]) {
      expect(exported.includes(secret)).toBe(false);
    }

    // Every log line of those requests, in both services, carries the trace id and one of its spans.
    const spanIds = new Set(spans.map((span) => span.spanId));
    const requestIds = ['tracing-login', 'tracing-read', 'tracing-delete'];
    const lines = [...logLines(system.auth.logs), ...logLines(system.resource.logs)].filter(
      (line) => requestIds.includes(String(line['reqId'])),
    );
    expect(new Set(lines.map((line) => line['reqId']))).toEqual(new Set(requestIds));
    for (const line of lines) {
      expect({ msg: line['msg'], traceId: line['trace_id'] }).toEqual({
        msg: line['msg'],
        traceId,
      });
      expect(spanIds.has(String(line['span_id']))).toBe(true);
    }
    // auth-service's line for the introspection resource-service asked for is in the trace too.
    const introspectionLine = logLines(system.auth.logs).find(
      (line) => (line['req'] as { url?: string } | undefined)?.url === '/oauth/introspect',
    );
    expect(introspectionLine?.['trace_id']).toBe(traceId);
  });

  it('leaves health probes and metrics scrapes out of the traces', () => {
    // ServiceProcess polled /health/ready until each service was ready.
    const paths = receiver.spans.map((span) => String(span.attributes['url.path']));
    expect(paths.filter((path) => path.startsWith('/health') || path === '/metrics')).toEqual([]);
  });
});
