import { EVENTS_STREAM } from '@tessera/auth-client';
import { NatsTestServer, OtlpTraceReceiver } from '@tessera/platform-testing';
import type { ReceivedSpan } from '@tessera/platform-testing';
import { connect } from 'nats';
import type { NatsConnection } from 'nats';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Client } from 'pg';
import { adminLogin, call, claimsOf, registerAndLogin } from './support/tessera-system';
import { startTesseraSystem } from './support/tessera-system';
import type { TesseraSystem, TokenPair } from './support/tessera-system';
import { traceWaterfall } from './support/trace-waterfall';

/**
 * With NATS_URL set (ADR 0013) and tracing on: the gateway, auth-service and resource-service as
 * built processes, a real nats-server with JetStream, and an in-memory OpenTelemetry collector
 * (OtlpTraceReceiver) that the services export to as an operator's OTEL_* variables make them.
 * One start of all of it serves both halves (npm test's time budget):
 *
 * - revocations and events over the broker: auth-service publishes `session.revoked` from its
 *   revocation log, resource-service follows it on the stream (not on GET /revocations) and
 *   refuses a logged-out session's token within the 2 s bound; revocations made while the broker
 *   is down are published once it is back; and resource-service restarted while events flow
 *   misses none: its notes consumer resumes after the last event it acknowledged, its in-memory
 *   revocation list reads the stream again (ADR 0013);
 * - one trace (issue 23): a caller's login and notes requests through the gateway, and an
 *   administrator's request that disables the caller, all under the caller's one `traceparent`,
 *   come back as one trace across the gateway, auth-service, resource-service and
 *   resource-service's consumer of the `user.disabled` event that the disabling published (its
 *   trace context stored in the outbox row, sent as NATS headers); every log line of those
 *   requests, and of the event's handler, carries that trace id.
 */

const BOUND_MS = 2000;

let nats: NatsTestServer;
let receiver: OtlpTraceReceiver;
let system: TesseraSystem;
let accounts = 0;
let adminToken: Promise<string> | undefined;

/** An administrator's access token for auth-service's /admin routes, made once. */
const admin = () => (adminToken ??= adminLogin(system, `broker-admin-${Date.now()}@example.com`));

async function login() {
  accounts += 1;
  return registerAndLogin(system.issuer, `broker${accounts}-${Date.now()}@example.com`);
}

const notesStatus = async (token: string) =>
  (await call(`${system.resourceUrl}/notes`, 'GET', undefined, token)).status;

const logout = (refreshToken: string) =>
  call(`${system.issuer}/auth/logout`, 'POST', { refresh_token: refreshToken });

/** Milliseconds from now until resource-service refuses `token`, polling every 10 ms. */
async function untilRefused(token: string, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while ((await notesStatus(token)) !== 401) {
    if (performance.now() - started > timeoutMs) {
      // What the services said about the broker, the relay and the stream: request lines and
      // the mail outbox's retries (no SMTP here) would bury it in a tail.
      const about = (logs: string) =>
        logs
          .split('\n')
          .filter((line) => /revocation|nats|jetstream|stream|broker|publish|consum/i.test(line))
          .filter((line) => !line.includes('"msg":"request completed"'))
          .slice(-30)
          .join('\n');
      throw new Error(
        `the token was never refused within ${timeoutMs} ms.\nauth-service:\n${about(system.auth.logs)}\n` +
          `resource-service:\n${about(system.resource.logs)}`,
      );
    }
    await new Promise((done) => setTimeout(done, 10));
  }
  return performance.now() - started;
}

/** Polls `done` every 50 ms; throws after `timeoutMs`. */
async function waitFor(done: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) {
      throw new Error(
        `timed out:\n${system.auth.logs.slice(-2000)}\n${system.resource.logs.slice(-3000)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  [nats, receiver] = await Promise.all([NatsTestServer.start(), OtlpTraceReceiver.start()]);
  const tracing = {
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    // Export every 100 ms instead of 5 s: the trace test waits for the spans.
    OTEL_BSP_SCHEDULE_DELAY: '100',
    METRICS_PORT: '0',
  };
  system = await startTesseraSystem({
    authPort: 13111,
    resourcePort: 13112,
    gatewayPort: 13113,
    name: 'broker',
    authEnv: { ...tracing, NATS_URL: nats.url, REGISTRATION_ADDRESS_LIMIT: '1000' },
    resourceEnv: { ...tracing, NATS_URL: nats.url },
    gatewayEnv: tracing,
  });
});

afterAll(async () => {
  expect(await system?.stop()).toEqual([0, 0]);
  await Promise.all([nats?.stop(), receiver?.stop()]);
});

describe('revocations over NATS JetStream', () => {
  it(`refuses a logged-out session's access token within ${BOUND_MS} ms (6 runs)`, async () => {
    const times: number[] = [];
    for (let run = 0; run < 6; run += 1) {
      const tokens = await login();
      expect(await notesStatus(tokens.access_token)).toBe(200);
      expect((await logout(tokens.refresh_token)).status).toBe(204);
      times.push(await untilRefused(tokens.access_token, 10 * BOUND_MS));
    }
    const sorted = [...times].sort((a, b) => a - b);
    console.log(
      `logout over NATS: p50 ${Math.round(sorted[3])} ms, max ${Math.round(sorted[5])} ms`,
    );
    expect(sorted[5]).toBeLessThanOrEqual(BOUND_MS);
  });

  it('publishes a revocation made while the broker was down once it is back, and resource-service refuses the token then', async () => {
    const tokens = await login();
    expect(await notesStatus(tokens.access_token)).toBe(200);

    await nats.kill();
    expect((await logout(tokens.refresh_token)).status).toBe(204);
    // resource-service follows the stream, not GET /revocations: nothing reaches it meanwhile.
    await new Promise((done) => setTimeout(done, 1500));
    expect(await notesStatus(tokens.access_token)).toBe(200);

    await nats.start();
    // The clients reconnect (every 0.5 s) and the relay retries (back-off up to 5 s).
    const afterRestart = await untilRefused(tokens.access_token, 20_000);
    console.log(`revocation published ${Math.round(afterRestart)} ms after the broker came back`);

    // Once each: the relay's Nats-Msg-Id (the log position) de-duplicates its retries.
    const broker: NatsConnection = await connect({ servers: nats.url });
    try {
      const manager = await broker.jetstreamManager();
      const revoked = await manager.streams.getMessage(EVENTS_STREAM, {
        last_by_subj: 'tessera.events.session.revoked',
      });
      expect(revoked.json<{ sub: string }>()).toMatchObject({ kind: 'session' });
      const { state } = await manager.streams.info(EVENTS_STREAM);
      const ids = new Set<string>();
      for (let seq = state.first_seq; seq <= state.last_seq; seq += 1) {
        const message = await manager.streams.getMessage(EVENTS_STREAM, { seq });
        if (message.subject !== 'tessera.events.session.revoked') continue;
        const { id } = message.json<{ id: string }>();
        expect(ids.has(id)).toBe(false);
        ids.add(id);
      }
      expect(ids.size).toBeGreaterThanOrEqual(7);
    } finally {
      await broker.close();
    }
  });

  it('resumes within seconds when the broker comes back before its JetStream does', async () => {
    const tokens = await login();
    expect(await notesStatus(tokens.access_token)).toBe(200);

    // Back without JetStream first: the clients reconnect and their JetStream requests fail, as
    // they do while a restarted broker is still recovering its streams.
    await nats.kill();
    await nats.start({ jetStream: false });
    await new Promise((done) => setTimeout(done, 2500));
    expect((await logout(tokens.refresh_token)).status).toBe(204);
    await nats.kill();
    await nats.start();
    // The relay retries every 5 s at most. A consumer session resumed by nats.js itself would wait
    // out its 30 s back-off from the failed check first.
    const afterJetStream = await untilRefused(tokens.access_token, 12_000);
    console.log(`revocation in force ${Math.round(afterJetStream)} ms after JetStream came back`);

    // resource-service's other consumer, the user.disabled handler, is back as well.
    const other = await login();
    const id = String(claimsOf(other.access_token)['sub']);
    const disabled = await call(
      `${system.issuer}/admin/users/${id}/disable`,
      'POST',
      undefined,
      await admin(),
    );
    expect(disabled.status).toBe(204);
    await waitFor(() => system.resource.logs.includes(`"User ${id} was disabled`), 12_000);
  });

  it('misses no event while resource-service restarts as events flow: user.disabled is handled once each, from where its durable consumer stopped, and every revocation is in force again', async () => {
    const token = await admin();
    // Ten accounts, each with a session and a note; disabling one publishes user.disabled (from
    // auth-service's outbox) and session.revoked (from its revocation log).
    const users: (TokenPair & { id: string })[] = [];
    for (let index = 0; index < 10; index += 1) {
      const tokens = await login();
      const created = await call(
        `${system.resourceUrl}/notes`,
        'POST',
        { title: 'mine' },
        tokens.access_token,
      );
      expect(created.status).toBe(201);
      users.push({ ...tokens, id: String(claimsOf(tokens.access_token)['sub']) });
    }
    const disable = async (group: typeof users) => {
      for (const user of group) {
        const answer = await call(
          `${system.issuer}/admin/users/${user.id}/disable`,
          'POST',
          undefined,
          token,
        );
        expect(answer.status).toBe(204);
      }
    };
    const handledIn = (logs: string, user: { id: string }) =>
      logs.split('\n').filter((line) => line.includes(`"User ${user.id} was disabled`)).length;
    const before = system.resource;

    // Events before the restart, while it stops, while it is down, while it starts, and after.
    await disable(users.slice(0, 2));
    await waitFor(
      () => users.slice(0, 2).every((user) => handledIn(before.logs, user) === 1),
      10_000,
    );
    const stoppedAt = performance.now();
    const stopping = before.stop();
    await disable(users.slice(2, 4));
    expect(await stopping).toBe(0);
    await disable(users.slice(4, 6));
    const restarting = system.restartResource();
    await disable(users.slice(6, 8));
    await restarting;
    const backAt = performance.now();
    await disable(users.slice(8, 10));

    // Every user's notes hidden, in resource-service's database.
    const database = new Client({ connectionString: system.resourceDatabase });
    await database.connect();
    try {
      const visible = async () =>
        (
          await database.query(
            'SELECT count(*)::int AS n FROM notes WHERE hidden_at IS NULL AND owner_subject = ANY($1)',
            [users.map((user) => user.id)],
          )
        ).rows[0].n as number;
      // Up to the consumer's 30 s ack wait and more: an event delivered to the stopping process
      // that it did not acknowledge is delivered again only then.
      await waitFor(async () => (await visible()) === 0, 45_000);
      console.log(
        `resource-service away ${Math.round(backAt - stoppedAt)} ms while events flowed; every ` +
          `user.disabled handled ${Math.round(performance.now() - backAt)} ms after it was back`,
      );
    } finally {
      await database.end();
    }
    // Each event handled exactly once over both processes: none missed, and none of those the
    // first one acknowledged handled again (the consumer resumed from its sequence, not the start).
    expect(
      users.map((user) => handledIn(before.logs, user) + handledIn(system.resource.logs, user)),
    ).toEqual(users.map(() => 1));
    expect(users.slice(0, 2).map((user) => handledIn(system.resource.logs, user))).toEqual([0, 0]);
    const broker: NatsConnection = await connect({ servers: nats.url });
    try {
      const consumer = await (
        await broker.jetstreamManager()
      ).consumers.info(EVENTS_STREAM, 'resource-service');
      expect({ pending: consumer.num_pending, unacknowledged: consumer.num_ack_pending }).toEqual({
        pending: 0,
        unacknowledged: 0,
      });
    } finally {
      await broker.close();
    }
    // The restarted process's revocation list is in memory: it read the stream from its start, so
    // the sessions revoked before the restart are refused as well as those revoked after.
    for (const user of users) await untilRefused(user.access_token, 20_000);
  }, 180_000);
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

/** The gateway's server span of a request to `path` (its proxy routes have no route template). */
const gatewaySpan = (spans: ReceivedSpan[], method: string, path: string) =>
  spans.find(
    (span) =>
      span.service === 'gateway' &&
      span.kind === 2 &&
      span.attributes['http.request.method'] === method &&
      span.attributes['url.path'] === path,
  );

/** The spans from `span` up to the trace's root (the caller's span is not among them). */
function ancestry(spans: ReceivedSpan[], span: ReceivedSpan | undefined): ReceivedSpan[] {
  const chain: ReceivedSpan[] = [];
  for (let at = span; at; at = spans.find((other) => other.spanId === at?.parentSpanId)) {
    chain.push(at);
  }
  return chain;
}

describe('one trace across the services', () => {
  it("follows a login and notes requests through the gateway, resource-service's call to auth-service, and the user.disabled event to its consumer, under the caller's trace id", async () => {
    const traceId = hex(16);
    const callerSpanId = hex(8);
    const traceparent = `00-${traceId}-${callerSpanId}-01`;
    const email = `tracing-${Date.now()}@example.com`;
    const password = 'correct horse battery staple';
    const gateway = system.gatewayUrl as string;
    expect((await call(`${system.issuer}/auth/register`, 'POST', { email, password })).status).toBe(
      201,
    );
    const adminAccess = await admin();

    const login = await traced(`${gateway}/auth/login`, 'POST', {
      traceparent,
      requestId: 'tracing-login',
      body: { email, password, resource: ['auth-service', 'resource-service'] },
    });
    expect(login.status).toBe(200);
    const { access_token: token } = login.body as unknown as TokenPair;
    const read = await traced(`${gateway}/api/notes?limit=5`, 'GET', {
      traceparent,
      token,
      requestId: 'tracing-read',
    });
    expect(read.status).toBe(200);
    // Asks auth-service (introspection) first: a request that crosses from one service to the other.
    const purge = await traced(`${gateway}/api/notes`, 'DELETE', {
      traceparent,
      token,
      requestId: 'tracing-delete',
    });
    expect(purge.status).toBe(200);
    // The gateway routes no /admin: an administrator calls auth-service itself. Disabling the
    // caller publishes user.disabled, which resource-service's durable consumer handles.
    const userId = String(claimsOf(token)['sub']);
    const disable = await traced(`${system.issuer}/admin/users/${userId}/disable`, 'POST', {
      traceparent,
      token: adminAccess,
      requestId: 'tracing-disable',
    });
    expect(disable.status).toBe(204);

    const consumerSpan = (received: ReceivedSpan[]) =>
      received.find(
        (span) =>
          span.service === 'resource-service' &&
          span.kind === 5 &&
          span.name === 'user.disabled process',
      );
    const spans = await receiver.waitForTrace(
      traceId,
      (received) =>
        !!gatewaySpan(received, 'POST', '/auth/login') &&
        !!gatewaySpan(received, 'GET', '/api/notes') &&
        !!gatewaySpan(received, 'DELETE', '/api/notes') &&
        !!serverSpan(received, 'auth-service', 'POST', '/auth/login') &&
        !!serverSpan(received, 'resource-service', 'GET', '/notes') &&
        !!serverSpan(received, 'resource-service', 'DELETE', '/notes') &&
        !!serverSpan(received, 'auth-service', 'POST', '/oauth/introspect') &&
        !!serverSpan(received, 'auth-service', 'POST', '/admin/users/:id/disable') &&
        !!consumerSpan(received) &&
        // The handler's query, which ends before its span does.
        received.some(
          (span) =>
            span.service === 'resource-service' &&
            span.parentSpanId !== undefined &&
            ancestry(received, span).includes(consumerSpan(received) as ReceivedSpan) &&
            span.attributes['db.system.name'] === 'postgresql',
        ),
      30_000,
    );

    // Named after its route, for the viewer.
    expect(serverSpan(spans, 'auth-service', 'POST', '/auth/login')?.name).toBe('POST /auth/login');
    // A query's parameter names only, as in the logs (R4), at the edge and behind it.
    expect(serverSpan(spans, 'resource-service', 'GET', '/notes')?.attributes['url.query']).toBe(
      'limit',
    );
    expect(gatewaySpan(spans, 'GET', '/api/notes')?.attributes['url.query']).toBe('limit');
    // The caller's span is the parent of the gateway's server span of each request, and of
    // auth-service's for the administrator's; each service's server span is the child of the
    // gateway's client span that forwarded it.
    for (const [method, path] of [
      ['POST', '/auth/login'],
      ['GET', '/api/notes'],
      ['DELETE', '/api/notes'],
    ]) {
      expect({ method, path, parent: gatewaySpan(spans, method, path)?.parentSpanId }).toEqual({
        method,
        path,
        parent: callerSpanId,
      });
    }
    expect(
      serverSpan(spans, 'auth-service', 'POST', '/admin/users/:id/disable')?.parentSpanId,
    ).toBe(callerSpanId);
    for (const [service, method, route, edgeMethod, edgePath] of [
      ['auth-service', 'POST', '/auth/login', 'POST', '/auth/login'],
      ['resource-service', 'GET', '/notes', 'GET', '/api/notes'],
      ['resource-service', 'DELETE', '/notes', 'DELETE', '/api/notes'],
    ]) {
      const chain = ancestry(spans, serverSpan(spans, service, method, route));
      expect({ service, route, parent: chain[1]?.service, kind: chain[1]?.kind }).toEqual({
        service,
        route,
        parent: 'gateway',
        kind: 3,
      });
      expect(chain.at(-1)).toBe(gatewaySpan(spans, edgeMethod, edgePath));
    }
    // resource-service's fetch to auth-service carried the trace on: the introspection's server
    // span is the child of resource-service's client span.
    const introspection = serverSpan(spans, 'auth-service', 'POST', '/oauth/introspect');
    const outgoing = spans.find((span) => span.spanId === introspection?.parentSpanId);
    expect({ service: outgoing?.service, kind: outgoing?.kind }).toEqual({
      service: 'resource-service',
      kind: 3,
    });
    // Through NATS: the consumer span descends from auth-service's span of the request that
    // disabled the user (the trace context the outbox row kept, sent as message headers).
    const consumer = consumerSpan(spans);
    const disabling = serverSpan(spans, 'auth-service', 'POST', '/admin/users/:id/disable');
    const fromConsumer = ancestry(spans, consumer);
    expect(fromConsumer[1]?.service).toBe('auth-service');
    expect(fromConsumer.at(-1)).toBe(disabling);
    expect(consumer?.attributes).toMatchObject({
      'messaging.system': 'nats',
      'messaging.destination.name': 'tessera.events.user.disabled',
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
    for (const secret of [password, token, refreshToken, adminAccess, system.clientSecret]) {
      expect(exported.includes(secret)).toBe(false);
    }

    // Every log line of those requests, in the gateway and both services, carries the trace id
    // and one of its spans.
    const spanIds = new Set(spans.map((span) => span.spanId));
    const requestIds = ['tracing-login', 'tracing-read', 'tracing-delete', 'tracing-disable'];
    const gatewayLines = logLines(system.gateway?.logs ?? '').filter((line) =>
      requestIds.includes(String(line['reqId'])),
    );
    expect(new Set(gatewayLines.map((line) => line['reqId']))).toEqual(
      new Set(['tracing-login', 'tracing-read', 'tracing-delete']),
    );
    const lines = [
      ...gatewayLines,
      ...logLines(system.auth.logs),
      ...logLines(system.resource.logs),
    ].filter((line) => requestIds.includes(String(line['reqId'])));
    expect(new Set(lines.map((line) => line['reqId']))).toEqual(new Set(requestIds));
    // The event's handler logs outside any request: its line carries the consumer's trace.
    const handled = logLines(system.resource.logs).filter((line) =>
      String(line['msg']).startsWith(`User ${userId} was disabled`),
    );
    expect(handled).toHaveLength(1);
    for (const line of [...lines, ...handled]) {
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

    // docs/images/trace-waterfall.svg is this trace, drawn when asked (docs/observability.md).
    const picture = process.env['TRACE_WATERFALL'];
    if (picture) {
      const title =
        'One trace: a login and notes requests through the gateway, and a user disabled, to its NATS consumer';
      writeFileSync(
        picture,
        traceWaterfall(
          receiver.spans.filter((span) => span.traceId === traceId),
          title,
        ),
      );
    }
  });

  it('leaves health probes and metrics scrapes out of the traces', () => {
    // ServiceProcess polled /health/ready until each service was ready, resource-service's
    // restart included.
    const paths = receiver.spans.map((span) => String(span.attributes['url.path']));
    expect(paths.filter((path) => path.startsWith('/health') || path === '/metrics')).toEqual([]);
  });
});
