import { call, startTesseraSystem } from './support/tessera-system';
import type { TesseraSystem, TokenPair } from './support/tessera-system';

/**
 * Logs and metrics of the built services (issue 9): a login → refresh → reuse → logout story,
 * then `/metrics` of both services read on their metrics listeners, with exact counts, and the
 * logs of the whole run checked for request ids and for secrets.
 */

const AUTH_METRICS = 'http://127.0.0.1:15512/metrics';
const RESOURCE_METRICS = 'http://127.0.0.1:15513/metrics';
const REQUEST_ID = 'observability-e2e-1';

let system: TesseraSystem;
let ISSUER: string;
let RESOURCE: string;
const secrets: string[] = [];

beforeAll(async () => {
  system = await startTesseraSystem({
    authPort: 15510,
    resourcePort: 15511,
    name: 'observability',
    // No grace: the replayed refresh token is reuse at once.
    authEnv: { REFRESH_REUSE_GRACE: '0', METRICS_PORT: '15512' },
    resourceEnv: { METRICS_PORT: '15513' },
  });
  ({ issuer: ISSUER, resourceUrl: RESOURCE } = system);
  secrets.push(system.clientSecret);
});

afterAll(async () => {
  expect(await system?.stop()).toEqual([0, 0]);
});

/** The value of one series in a Prometheus text exposition, or undefined when it is absent. */
function sample(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

async function login(email: string, password: string, scope?: string): Promise<TokenPair> {
  const answer = await call(`${ISSUER}/auth/login`, 'POST', { email, password, scope });
  expect(answer.status).toBe(200);
  const tokens = answer.body as unknown as TokenPair & { id_token?: string };
  secrets.push(
    tokens.access_token,
    tokens.refresh_token,
    ...(tokens.id_token ? [tokens.id_token] : []),
  );
  return tokens;
}

/** The log's JSON lines; Node's own warnings are the only other lines a service may print. */
function logLines(logs: string): Record<string, unknown>[] {
  return logs
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^\(node:\d+\)|^\(Use `node --trace/.test(line))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('metrics and logs of auth-service and resource-service', () => {
  it('count a login → refresh → reuse → logout story exactly, on listeners apart from the API', async () => {
    const email = `metrics-${Date.now()}@example.com`;
    const password = 'correct horse battery staple';
    secrets.push(password);
    expect((await call(`${ISSUER}/auth/register`, 'POST', { email, password })).status).toBe(201);

    // Login 1, with the first-party client's default scopes (no openid: no ID token).
    const first = await login(email, password);
    expect((await call(`${RESOURCE}/notes`, 'GET', undefined, first.access_token)).status).toBe(
      200,
    );
    const refreshed = await call(`${ISSUER}/auth/refresh`, 'POST', {
      refresh_token: first.refresh_token,
    });
    expect(refreshed.status).toBe(200);
    const second = refreshed.body as unknown as TokenPair;
    secrets.push(second.access_token, second.refresh_token);
    // The spent token again: reuse, which ends the session.
    const replayed = await call(`${ISSUER}/auth/refresh`, 'POST', {
      refresh_token: first.refresh_token,
    });
    expect(replayed).toMatchObject({ status: 401, body: { error: 'invalid_grant' } });

    // Login 2, with an ID token, then logout; resource-service refuses its access token once the
    // feed says so.
    const third = await login(email, password, 'openid notes:read');
    expect(
      (await call(`${ISSUER}/auth/logout`, 'POST', { refresh_token: third.refresh_token })).status,
    ).toBe(204);
    const deadline = Date.now() + 5000;
    let status = 200;
    while (status !== 401 && Date.now() < deadline) {
      status = (await call(`${RESOURCE}/notes`, 'GET', undefined, third.access_token)).status;
      if (status !== 401) await new Promise((done) => setTimeout(done, 50));
    }
    expect(status).toBe(401);

    // Login 3 with notes:read only: writing is a missing scope.
    const reader = await login(email, password, 'notes:read');
    expect(
      (await call(`${RESOURCE}/notes`, 'POST', { title: 'x' }, reader.access_token)).status,
    ).toBe(403);
    expect((await call(`${RESOURCE}/notes`, 'GET')).status).toBe(401);
    expect((await call(`${RESOURCE}/notes`, 'GET', undefined, 'abc.def.ghi')).status).toBe(401);
    const unknownNote = '00000000-0000-4000-8000-000000000000';
    expect(
      (await call(`${RESOURCE}/notes/${unknownNote}`, 'GET', undefined, reader.access_token))
        .status,
    ).toBe(404);

    const auth = await scrape(AUTH_METRICS);
    expect(sample(auth, 'tessera_tokens_issued_total{kind="access"}')).toBe(4);
    expect(sample(auth, 'tessera_tokens_issued_total{kind="refresh"}')).toBe(4);
    // Only login 2 asked for openid.
    expect(sample(auth, 'tessera_tokens_issued_total{kind="id"}')).toBe(1);
    // resource-service's own token, for the revocation feed.
    expect(sample(auth, 'tessera_tokens_issued_total{kind="service"}')).toBeGreaterThanOrEqual(1);
    expect(sample(auth, 'tessera_refresh_reuse_detected_total')).toBe(1);
    expect(sample(auth, 'tessera_sessions_revoked_total{reason="reuse_detected"}')).toBe(1);
    expect(sample(auth, 'tessera_sessions_revoked_total{reason="logout"}')).toBe(1);
    expect(sample(auth, 'tessera_sessions_revoked_total{reason="logout_all"}')).toBe(0);
    const login200 =
      'tessera_http_request_duration_seconds_count{method="POST",route="/auth/login",status="200"}';
    expect(sample(auth, login200)).toBe(3);
    const refresh = (status: number) =>
      `tessera_http_request_duration_seconds_count{method="POST",route="/auth/refresh",status="${status}"}`;
    expect(sample(auth, refresh(200))).toBe(1);
    expect(sample(auth, refresh(401))).toBe(1);
    expect(auth).toMatch(/^process_resident_memory_bytes \d+/m);

    const resource = await scrape(RESOURCE_METRICS);
    const refusals = (reason: string) =>
      sample(resource, `tessera_guard_refusals_total{reason="${reason}"}`);
    expect(refusals('missing_token')).toBe(1);
    expect(refusals('malformed')).toBe(1);
    expect(refusals('revoked')).toBe(1);
    expect(refusals('insufficient_scope')).toBe(1);
    expect(refusals('expired')).toBe(0);
    expect(
      sample(resource, 'tessera_jwks_fetches_total{outcome="success"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(resource, 'tessera_jwks_fetches_total{outcome="failure"}')).toBe(0);
    // Route patterns, never URLs: the note's id is no label.
    expect(
      sample(
        resource,
        'tessera_http_request_duration_seconds_count{method="GET",route="/notes/:id",status="404"}',
      ),
    ).toBe(1);
    expect(resource).not.toContain(unknownNote);
    expect(
      sample(
        resource,
        'tessera_http_request_duration_seconds_count{method="POST",route="/notes",status="403"}',
      ),
    ).toBe(1);
  });

  it('keeps /metrics off the API port and off every address but loopback', async () => {
    for (const url of [`${ISSUER}/metrics`, `${RESOURCE}/metrics`]) {
      expect((await fetch(url)).status).toBe(404);
    }
    // 127.0.0.2 is this machine too, but not the address the listener is bound to (METRICS_HOST).
    await expect(fetch('http://127.0.0.2:15512/metrics')).rejects.toThrow();
    await expect(fetch('http://127.0.0.2:15513/metrics')).rejects.toThrow();
    expect((await fetch(AUTH_METRICS.replace('/metrics', '/'))).status).toBe(404);
  });

  it('logs JSON lines with the request id the response echoes', async () => {
    const response = await fetch(`${ISSUER}/.well-known/jwks.json`, {
      headers: { 'x-request-id': REQUEST_ID },
    });
    expect(response.headers.get('x-request-id')).toBe(REQUEST_ID);
    const generated = await fetch(`${RESOURCE}/ping`);
    const generatedId = generated.headers.get('x-request-id');
    expect(generatedId).toMatch(/^[0-9a-f-]{36}$/);
    // The request line is written when the response has finished.
    await new Promise((done) => setTimeout(done, 100));

    const authLines = logLines(system.auth.logs);
    expect(authLines).toContainEqual(
      expect.objectContaining({
        reqId: REQUEST_ID,
        msg: 'request completed',
        req: expect.objectContaining({ method: 'GET', url: '/.well-known/jwks.json' }),
        res: { statusCode: 200 },
      }),
    );
    expect(logLines(system.resource.logs)).toContainEqual(
      expect.objectContaining({ reqId: generatedId, msg: 'request completed' }),
    );
    // Tracing is off unless asked for (docs/observability.md): no line carries a trace.
    expect(
      [...authLines, ...logLines(system.resource.logs)].filter((line) => 'trace_id' in line),
    ).toEqual([]);
    // Readiness probes (ServiceProcess polled /health/ready until the services were up) are no news.
    expect(authLines).not.toContainEqual(
      expect.objectContaining({
        req: expect.objectContaining({ url: '/health/ready' }),
        res: { statusCode: 200 },
      }),
    );
    // A line logged while a request ran carries its id: the reuse warning of the story above.
    expect(authLines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        context: 'SessionsService',
        reqId: expect.any(String),
        msg: expect.stringMatching(/^Refresh token reuse detected/),
      }),
    );
  });

  it('never logs a token, a password, a cookie or an Authorization header (R27)', async () => {
    const cookie = `tessera_refresh=${'c'.repeat(43)}`;
    const queryToken = 'q'.repeat(40);
    secrets.push(cookie, queryToken);
    await fetch(`${ISSUER}/auth/refresh`, {
      method: 'POST',
      headers: {
        cookie,
        authorization: `Bearer ${'b'.repeat(40)}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ refresh_token: 'r'.repeat(43) }),
    });
    await fetch(`${RESOURCE}/notes?access_token=${queryToken}`);
    await new Promise((done) => setTimeout(done, 100));
    secrets.push('b'.repeat(40), 'r'.repeat(43));
    for (const secret of secrets) {
      expect(system.auth.logs).not.toContain(secret);
      expect(system.resource.logs).not.toContain(secret);
    }
    for (const line of [...logLines(system.auth.logs), ...logLines(system.resource.logs)]) {
      const headers = (line['req'] as { headers?: object } | undefined)?.headers ?? {};
      expect(Object.keys(headers)).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^(authorization|cookie)$/)]),
      );
    }
    // The query's parameter names are logged, never their values.
    expect(logLines(system.resource.logs)).toContainEqual(
      expect.objectContaining({ req: expect.objectContaining({ url: '/notes?access_token' }) }),
    );
  });
});
