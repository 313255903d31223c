import { describeForgedTokens, TestIssuer } from '@tessera/auth-testing';
import { createTestDatabase, ServiceProcess } from '@tessera/platform-testing';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { resolve } from 'node:path';
import { EchoService } from './support/echo-service';
import type { ReceivedRequest } from './support/echo-service';

/**
 * The built gateway as a real process with its real route table, in front of an echo service
 * standing in for auth-service and resource-service (it answers with what it received), and a
 * test issuer (keys, client credentials, revocation feed). What the edge must do (docs/security-
 * model.md, G1–G3): verify like a service, strip what a client may not say, set the forwarding
 * headers once, limit each caller on its own.
 */

const PORT = 13100;
const GATEWAY = `http://127.0.0.1:${PORT}`;
const RATE_LIMIT = 5;
const BODY_LIMIT = 2048;
const WEB_ORIGIN = 'http://localhost:4200';

let issuer: TestIssuer;
let attacker: TestIssuer;
let echo: EchoService;
let gateway: ServiceProcess;
let subjects = 0;

beforeAll(async () => {
  const secret = randomBytes(32).toString('base64url');
  [issuer, attacker, echo] = await Promise.all([
    TestIssuer.start({ audience: 'resource-service', clients: { gateway: secret } }),
    TestIssuer.start({ audience: 'resource-service' }),
    EchoService.start(),
  ]);
  gateway = await ServiceProcess.start({
    main: resolve(__dirname, '../../../dist/apps/gateway/main.js'),
    url: GATEWAY,
    env: {
      NODE_ENV: 'test',
      PORT: String(PORT),
      AUTH_ISSUER: issuer.issuer,
      AUTH_CLIENT_SECRET: secret,
      UPSTREAMS: `auth-service=${echo.url},resource-service=${echo.url}`,
      RATE_LIMIT_MAX: String(RATE_LIMIT),
      BODY_LIMIT: String(BODY_LIMIT),
      CORS_ORIGINS: WEB_ORIGIN,
      LOG_LEVEL: 'info',
    },
  });
});

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
  await Promise.all([issuer?.stop(), attacker?.stop(), echo?.stop()]);
});

/** A valid token for resource-service with notes:read, of a subject no other test uses. */
function token(claims: Record<string, unknown> = {}): string {
  subjects += 1;
  return issuer.accessToken({ sub: `user-${subjects}`, scope: 'notes:read', ...claims });
}

async function send(
  path: string,
  options: {
    token?: string;
    headers?: Record<string, string>;
    method?: string;
    body?: string;
  } = {},
) {
  const response = await fetch(`${GATEWAY}${path}`, {
    method: options.method ?? 'GET',
    headers: {
      ...(options.token && { authorization: `Bearer ${options.token}` }),
      ...options.headers,
    },
    body: options.body,
  });
  const text = await response.text();
  const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  return { status: response.status, headers: response.headers, body };
}

/** What the service received for this request (the echo's answer). */
const received = (body: Record<string, unknown>) => body as unknown as ReceivedRequest;

describeForgedTokens('the gateway in front of resource-service (G1)', () => ({
  url: `${GATEWAY}/api/me`,
  issuer,
  attacker,
}));

describe('verification at the edge (G1)', () => {
  it('refused every forged token itself: only the valid one reached the service', () => {
    expect(echo.received.filter((request) => request.url === '/me')).toHaveLength(1);
  });

  it('answers no token with 401 Bearer, and forwards nothing', async () => {
    const before = echo.received.length;
    const answer = await send('/api/notes');
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    expect(answer.body).toMatchObject({ statusCode: 401, requestId: expect.any(String) });
    expect(echo.received.length).toBe(before);
  });

  it("refuses a token for another service with 401, and one without the route's scope with 403", async () => {
    const other = await send('/api/notes', { token: token({ aud: ['auth-service'] }) });
    expect(other.status).toBe(401);
    expect(other.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    const unscoped = await send('/api/notes', { token: token({ scope: 'notes:write' }) });
    expect(unscoped.status).toBe(403);
    expect(unscoped.headers.get('www-authenticate')).toBe(
      'Bearer error="insufficient_scope", scope="notes:read"',
    );
  });

  it('forwards a good token to the path the table names, query and token included', async () => {
    const good = token();
    const answer = await send('/api/notes/42?limit=3', { token: good });
    expect(answer.status).toBe(200);
    expect(received(answer.body)).toMatchObject({
      url: '/notes/42?limit=3',
      headers: { authorization: `Bearer ${good}` },
    });
  });

  it('forwards a public route without a token, and answers an unrouted path itself (404)', async () => {
    expect((await send('/.well-known/jwks.json')).status).toBe(200);
    const unrouted = await send('/revocations');
    expect(unrouted.status).toBe(404);
    expect(unrouted.body).toMatchObject({ statusCode: 404, requestId: expect.any(String) });
  });

  it('refuses a revoked session within 2 s of the revocation feed saying so', async () => {
    const sid = randomBytes(8).toString('hex');
    const revoked = token({ sid });
    expect((await send('/api/notes', { token: revoked })).status).toBe(200);
    issuer.announceRevocation({ sids: [sid], sub: `user-${subjects}` });
    const announced = performance.now();
    while ((await send('/api/notes', { token: revoked })).status !== 401) {
      expect(performance.now() - announced).toBeLessThan(2000);
      await new Promise((done) => setTimeout(done, 20));
    }
  });
});

describe('headers done once (G2)', () => {
  it('sets X-Forwarded-* from what it saw, whatever forwarding headers the client sent', async () => {
    const answer = await send('/.well-known/openid-configuration', {
      headers: {
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
        forwarded: 'for=203.0.113.9;proto=https',
        'x-real-ip': '203.0.113.9',
      },
    });
    const headers = received(answer.body).headers;
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe(`127.0.0.1:${PORT}`);
    expect(headers['forwarded']).toBeUndefined();
    expect(headers['x-real-ip']).toBeUndefined();
  });

  it('never lets a client-sent internal or identity header reach a service (R28)', async () => {
    const answer = await send('/api/notes', {
      token: token(),
      headers: {
        'x-user-id': 'admin',
        'x-internal-secret': '1',
        'x-principal': '{"roles":["admin"]}',
        'x-scopes': 'admin',
        'x-gateway-verified': 'true',
        'x-tessera-csrf': '1',
      },
    });
    const names = Object.keys(received(answer.body).headers);
    for (const name of ['x-user-id', 'x-internal-secret', 'x-principal', 'x-scopes']) {
      expect(names).not.toContain(name);
    }
    expect(names).not.toContain('x-gateway-verified');
    // A header the client may send (auth-service's CSRF check) still arrives.
    expect(names).toContain('x-tessera-csrf');
  });

  it('passes on the request id and a well-formed traceparent, and drops a malformed one', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const traced = await send('/auth/x', {
      headers: { 'x-request-id': 'client-chosen-id', traceparent, tracestate: 'a=1' },
    });
    expect(traced.headers.get('x-request-id')).toBe('client-chosen-id');
    expect(received(traced.body).headers).toMatchObject({
      'x-request-id': 'client-chosen-id',
      traceparent,
      tracestate: 'a=1',
    });
    const malformed = await send('/auth/x', {
      headers: { 'x-request-id': 'not ok; /etc', traceparent: '00-zz-yy-01', tracestate: 'a=1' },
    });
    const headers = received(malformed.body).headers;
    expect(headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(headers['traceparent']).toBeUndefined();
    expect(headers['tracestate']).toBeUndefined();
  });

  it('drops hop-by-hop headers, those a Connection header names included', async () => {
    const headers = await new Promise<ReceivedRequest['headers']>((done, fail) => {
      const request = httpRequest(`${GATEWAY}/auth/hop`, {
        headers: { connection: 'keep-alive, x-hop', 'x-hop': 'secret', te: 'trailers' },
      });
      request.on('response', (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => done(received(JSON.parse(text)).headers));
      });
      request.on('error', fail);
      request.end();
    });
    expect(headers['x-hop']).toBeUndefined();
    expect(headers['te']).toBeUndefined();
  });

  it('answers CORS for the configured origin itself, never with a service’s wider answer', async () => {
    const allowed = await send('/auth/x', { headers: { origin: WEB_ORIGIN } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(WEB_ORIGIN);
    const foreign = await send('/auth/x', { headers: { origin: 'https://evil.example' } });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await send('/api/notes', {
      method: 'OPTIONS',
      headers: { origin: WEB_ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(WEB_ORIGIN);
  });

  it('sends the security headers on forwarded answers and on its own errors', async () => {
    for (const answer of [await send('/auth/x'), await send('/api/notes')]) {
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('strict-transport-security')).toMatch(/max-age=/);
      expect(answer.headers.get('keep-alive')).not.toBe('timeout=5');
    }
  });

  it('refuses a body over BODY_LIMIT with 413 before a service sees it', async () => {
    const before = echo.received.length;
    const answer = await send('/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT) }),
    });
    expect(answer.status).toBe(413);
    expect(answer.body).toMatchObject({ statusCode: 413, requestId: expect.any(String) });
    expect(echo.received.length).toBe(before);
  });

  it('forwards a body as the bytes that came, whatever its type', async () => {
    const form = 'grant_type=client_credentials&scope=a+b';
    const answer = await send('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    expect(received(answer.body)).toMatchObject({
      method: 'POST',
      url: '/oauth/token',
      body: form,
    });
    const json = '{"email":"a@example.com" , "password":"x"}';
    const login = await send('/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: json,
    });
    expect(received(login.body).body).toBe(json);
  });
});

describe('limits by caller (G3)', () => {
  it('answers one subject over its budget 429 with Retry-After and RateLimit headers, and nobody else', async () => {
    const greedy = token();
    for (let request = 1; request <= RATE_LIMIT; request += 1) {
      const answer = await send('/api/notes', { token: greedy });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('ratelimit-limit')).toBe(String(RATE_LIMIT));
      expect(answer.headers.get('ratelimit-remaining')).toBe(String(RATE_LIMIT - request));
    }
    const over = await send('/api/notes', { token: greedy });
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(over.headers.get('ratelimit-remaining')).toBe('0');
    expect(over.body).toMatchObject({
      statusCode: 429,
      error: 'Too Many Requests',
      requestId: expect.any(String),
    });
    // The same user through another client has a budget of its own; so has another user.
    expect(
      (
        await send('/api/notes', {
          token: token({ sub: `user-${subjects}`, client_id: 'other-app' }),
        })
      ).status,
    ).toBe(200);
    expect((await send('/api/notes', { token: token() })).status).toBe(200);
    // Anonymous callers count by address, on their own budget.
    expect((await send('/.well-known/jwks.json')).status).toBe(200);
  });

  it('counts anonymous callers by address, apart from authenticated ones', async () => {
    // routes.json gives /.well-known no budget of its own: RATE_LIMIT_MAX per window.
    const answers = [];
    for (let request = 0; request < RATE_LIMIT + 1; request += 1) {
      answers.push((await send('/userinfo')).status);
    }
    expect(answers.slice(0, -1).every((status) => status === 200)).toBe(true);
    expect(answers.at(-1)).toBe(429);
    // An authenticated caller on the same route, from the same address, is not affected.
    expect((await send('/userinfo', { token: token({ aud: ['auth-service'] }) })).status).toBe(200);
  });
});

/**
 * Phantom-token mode (ACCESS_TOKEN_FORMAT=reference, docs/adr/0012-gateway-at-the-edge.md): a real
 * auth-service that hands out reference tokens, and a second gateway in that mode in front of it
 * and of the echo standing in for resource-service.
 */
describe('phantom tokens (issue 21)', () => {
  const PHANTOM_PORT = 13141;
  const AUTH_PORT = 13142;
  const PHANTOM = `http://127.0.0.1:${PHANTOM_PORT}`;
  const AUTH = `http://127.0.0.1:${AUTH_PORT}`;
  const REFERENCE = /^[A-Za-z0-9_-]{43}$/;
  /** The phantom gateway's RATE_LIMIT_MAX: /api/notes has no budget of its own in routes.json. */
  const PHANTOM_BUDGET = 100;
  const AUTH_METRICS = 'http://127.0.0.1:19142/metrics';
  const gatewaySecret = randomBytes(32).toString('base64url');
  const otherSecret = randomBytes(32).toString('base64url');
  let auth: ServiceProcess;
  let phantom: ServiceProcess;
  let accounts = 0;
  const seen: string[] = [];

  beforeAll(async () => {
    auth = await ServiceProcess.start({
      main: resolve(__dirname, '../../../dist/apps/auth-service/main.js'),
      url: AUTH,
      timeoutMs: 120_000,
      env: {
        NODE_ENV: 'test',
        PORT: String(AUTH_PORT),
        DATABASE_URL: await createTestDatabase('gateway_phantom_auth'),
        KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        ISSUER: AUTH,
        CLIENT_SECRETS: `gateway=${gatewaySecret},resource-service=${otherSecret}`,
        ACCESS_TOKEN_FORMAT: 'reference',
        METRICS_PORT: '19142',
        LOG_LEVEL: 'info',
      },
    });
    phantom = await ServiceProcess.start({
      main: resolve(__dirname, '../../../dist/apps/gateway/main.js'),
      url: PHANTOM,
      env: {
        NODE_ENV: 'test',
        PORT: String(PHANTOM_PORT),
        AUTH_ISSUER: AUTH,
        AUTH_CLIENT_SECRET: gatewaySecret,
        ACCESS_TOKEN_FORMAT: 'reference',
        UPSTREAMS: `auth-service=${AUTH},resource-service=${echo.url}`,
        RATE_LIMIT_MAX: String(PHANTOM_BUDGET),
        // One window for the whole suite: the flood's count must not restart halfway through.
        RATE_LIMIT_WINDOW: '600',
        LOG_LEVEL: 'info',
      },
    });
  }, 240_000);

  afterAll(async () => {
    expect(await phantom?.stop()).toBe(0);
    expect(await auth?.stop()).toBe(0);
    // Neither logged a reference token or a JWT (R27).
    for (const logs of [phantom?.logs ?? '', auth?.logs ?? '']) {
      expect(logs).not.toMatch(/eyJ[\w-]+\.eyJ/);
      for (const token of seen) expect(logs).not.toContain(token);
    }
  });

  /** A new account signed in through the phantom gateway: its reference and refresh tokens. */
  async function signIn(): Promise<{ access: string; refresh: string }> {
    accounts += 1;
    const account = {
      email: `phantom-${accounts}@example.com`,
      password: 'correct horse battery staple',
    };
    const json = { 'content-type': 'application/json' };
    await fetch(`${PHANTOM}/auth/register`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify(account),
    });
    const login = await fetch(`${PHANTOM}/auth/login`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ ...account, resource: ['auth-service', 'resource-service'] }),
    });
    const body = (await login.json()) as { access_token: string; refresh_token: string };
    expect(login.status).toBe(200);
    seen.push(body.access_token, body.refresh_token);
    return { access: body.access_token, refresh: body.refresh_token };
  }

  async function at(base: string, path: string, token: string, init: RequestInit = {}) {
    const response = await fetch(`${base}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      challenge: response.headers.get('www-authenticate'),
      type: response.headers.get('content-type') ?? '',
      text,
      body: (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, unknown>,
    };
  }

  const claimsOf = (jwt: string) =>
    JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >;

  it('hands out opaque reference tokens from a login and from a refresh at /oauth/token', async () => {
    const { access, refresh } = await signIn();
    expect(access).toMatch(REFERENCE);
    const refreshed = await fetch(`${PHANTOM}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refresh,
        client_id: 'tessera-first-party',
      }).toString(),
    });
    const body = (await refreshed.json()) as { access_token: string; refresh_token: string };
    expect(refreshed.status).toBe(200);
    seen.push(body.access_token, body.refresh_token);
    expect(body.access_token).toMatch(REFERENCE);
    expect(body.access_token).not.toBe(access);
  });

  it('works through the gateway: the service receives a short-lived JWT for itself alone, never the reference', async () => {
    const { access } = await signIn();
    // auth-service itself verifies the JWT the gateway forwarded in the reference's place.
    expect((await at(PHANTOM, '/auth/sessions', access)).status).toBe(200);
    const notes = await at(PHANTOM, '/api/notes', access);
    expect(notes.status).toBe(200);
    const forwarded = received(notes.body);
    expect(forwarded.rawHeaders.join('\n')).not.toContain(access);
    const jwt = String(forwarded.headers.authorization).replace(/^Bearer /, '');
    expect(claimsOf(jwt)).toMatchObject({
      iss: AUTH,
      aud: ['resource-service'],
      client_id: 'tessera-first-party',
      sid: expect.any(String),
    });
    // The replay: what resource-service was forwarded is refused at auth-service's account API,
    // though the reference itself was issued for both.
    const replayed = await at(AUTH, '/auth/sessions', jwt);
    expect(replayed.status).toBe(401);
    expect(replayed.challenge).toBe('Bearer error="invalid_token"');
    // Short-lived (issue 21): a minute at most, never past the reference's own exp (15 min).
    const { exp, iat } = claimsOf(jwt) as { exp: number; iat: number };
    const reference = (await (
      await form('/oauth/introspect', { token: access }, ['resource-service', otherSecret])
    ).json()) as { exp: number; iat: number };
    expect(reference.exp - reference.iat).toBeGreaterThan(60);
    expect(exp - iat).toBeLessThanOrEqual(60);
    expect(exp).toBeLessThanOrEqual(reference.exp);
    expect(iat).toBeGreaterThanOrEqual(reference.iat);
  });

  it('is refused directly at a service with 401 invalid_token', async () => {
    const { access } = await signIn();
    const direct = await at(AUTH, '/auth/sessions', access);
    expect(direct.status).toBe(401);
    expect(direct.challenge).toBe('Bearer error="invalid_token"');
    expect(direct.body).toMatchObject({ statusCode: 401, requestId: expect.any(String) });
  });

  it('answers an unknown, a malformed or a made-up reference 401 in the house shape, forwarding nothing', async () => {
    const before = echo.received.length;
    for (const token of [randomBytes(32).toString('base64url'), 'abc', `${'A'.repeat(42)}.`]) {
      const answer = await at(PHANTOM, '/api/notes', token);
      expect(answer.status).toBe(401);
      expect(answer.challenge).toBe('Bearer error="invalid_token"');
      expect(answer.body).toMatchObject({ statusCode: 401, requestId: expect.any(String) });
    }
    expect(echo.received.length).toBe(before);
  });

  /** A form POST straight to auth-service, as `client` when given (client_secret_basic). */
  const form = (
    path: string,
    params: Record<string, string>,
    client?: [string, string],
    accept?: string,
  ) =>
    fetch(`${AUTH}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(accept && { accept }),
        ...(client && {
          authorization: `Basic ${Buffer.from(client.join(':')).toString('base64')}`,
        }),
      },
      body: new URLSearchParams(params).toString(),
    });

  it('swaps a reference for its JWT only for the gateway client (tokens:phantom)', async () => {
    const { access } = await signIn();
    const swap = (client: [string, string], audience = 'auth-service') =>
      form('/oauth/introspect', { token: access, audience }, client, 'application/jwt');
    const gateway = await swap(['gateway', gatewaySecret]);
    expect(gateway.status).toBe(200);
    expect(gateway.headers.get('content-type')).toMatch(/^application\/jwt/);
    expect(claimsOf(await gateway.text())).toMatchObject({
      iss: AUTH,
      aud: ['auth-service'],
      sid: expect.any(String),
    });
    // An audience the reference was not issued for (RFC 8707): inactive, as for another's token.
    const elsewhere = await swap(['gateway', gatewaySecret], 'billing-service');
    expect(elsewhere.status).toBe(200);
    expect(await elsewhere.json()).toEqual({ active: false });
    const unnamed = await form(
      '/oauth/introspect',
      { token: access },
      ['gateway', gatewaySecret],
      'application/jwt',
    );
    expect(unnamed.status).toBe(400);
    expect(await unnamed.json()).toMatchObject({ error: 'invalid_request' });
    const other = await swap(['resource-service', otherSecret]);
    expect(other.status).toBe(400);
    expect(await other.json()).toMatchObject({ error: 'unauthorized_client' });
    // A service's own token, or the user's reference, as the bearer: no swap either.
    const serviceToken = await form(
      '/oauth/token',
      { grant_type: 'client_credentials', resource: 'auth-service' },
      ['resource-service', otherSecret],
    );
    expect(serviceToken.status).toBe(200);
    const { access_token: resourceServiceToken } = (await serviceToken.json()) as {
      access_token: string;
    };
    for (const bearer of [resourceServiceToken, access]) {
      const answer = await fetch(`${AUTH}/oauth/introspect`, {
        method: 'POST',
        headers: {
          accept: 'application/jwt',
          authorization: `Bearer ${bearer}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token: access }).toString(),
      });
      expect({ status: answer.status, type: answer.headers.get('content-type') }).toEqual({
        status: 401,
        type: expect.stringMatching(/^application\/json/),
      });
      expect(await answer.json()).toMatchObject({ error: 'invalid_token' });
    }
  });

  it('answers RFC 7662 in JSON for a reference and revokes it with RFC 7009, as for a JWT, also once the gateway holds its swap', async () => {
    const { access } = await signIn();
    const resourceService: [string, string] = ['resource-service', otherSecret];
    const introspect = async () =>
      (await form('/oauth/introspect', { token: access }, resourceService)).json();
    expect(await introspect()).toMatchObject({
      active: true,
      token_type: 'Bearer',
      client_id: 'tessera-first-party',
      sid: expect.any(String),
    });
    // Swapped and cached at the edge first: the revocation must reach the gateway's cache.
    expect((await at(PHANTOM, '/api/notes', access)).status).toBe(200);
    const revoked = await form('/oauth/revoke', {
      token: access,
      client_id: 'tessera-first-party',
    });
    expect(revoked.status).toBe(200);
    const revokedAt = performance.now();
    expect(await introspect()).toEqual({ active: false });
    let answer = await at(PHANTOM, '/api/notes', access);
    while (answer.status !== 401) {
      expect(answer.status).toBe(200);
      expect(performance.now() - revokedAt).toBeLessThan(2000);
      await new Promise((done) => setTimeout(done, 20));
      answer = await at(PHANTOM, '/api/notes', access);
    }
    expect(answer.challenge).toBe('Bearer error="invalid_token"');
  });

  it('stops working within 2 s of logout', async () => {
    const { access } = await signIn();
    expect((await at(PHANTOM, '/api/notes', access)).status).toBe(200);
    const logout = await at(PHANTOM, '/auth/logout', access, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(logout.status).toBe(204);
    const loggedOut = performance.now();
    let answer = await at(PHANTOM, '/api/notes', access);
    while (answer.status !== 401) {
      expect(answer.status).toBe(200);
      expect(performance.now() - loggedOut).toBeLessThan(2000);
      await new Promise((done) => setTimeout(done, 20));
      answer = await at(PHANTOM, '/api/notes', access);
    }
    const took = performance.now() - loggedOut;
    console.log(`phantom token refused at the gateway ${Math.round(took)} ms after logout`);
    expect(took).toBeLessThan(2000);
    expect(answer.challenge).toBe('Bearer error="invalid_token"');
  });

  const JWT_REFUSED =
    'Bearer error="invalid_token", error_description="A JWT access token is not accepted here; send a reference token"';

  it('refuses at the edge the JWT a service was forwarded, replayed from outside, on a token route and a public one', async () => {
    const { access } = await signIn();
    const notes = await at(PHANTOM, '/api/notes', access);
    expect(notes.status).toBe(200);
    const jwt = String(received(notes.body).headers.authorization).replace(/^Bearer /, '');
    expect(claimsOf(jwt)).toMatchObject({ aud: ['resource-service'] });
    const before = echo.received.length;
    // Live, unrevoked, for that very route's audience: only the mode refuses it.
    for (const path of ['/api/notes', '/api/me', '/auth/sessions']) {
      const replayed = await at(PHANTOM, path, jwt);
      expect({ path, status: replayed.status }).toEqual({ path, status: 401 });
      expect(replayed.challenge).toBe(JWT_REFUSED);
      expect(replayed.body).toMatchObject({
        statusCode: 401,
        message: expect.stringMatching(/JWT access token is not accepted/),
        requestId: expect.any(String),
      });
    }
    expect(echo.received.length).toBe(before);
    // The reference it stands for still works.
    expect((await at(PHANTOM, '/api/notes', access)).status).toBe(200);
  });

  /** Every introspection auth-service answered so far (its request histogram's counts). */
  async function introspections(): Promise<number> {
    const metrics = await (await fetch(AUTH_METRICS)).text();
    return metrics
      .split('\n')
      .filter((line) =>
        line.startsWith(
          'tessera_http_request_duration_seconds_count{method="POST",route="/oauth/introspect",',
        ),
      )
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
  }

  /** GET `path` with `token` from another loopback address: another caller to the gateway. */
  const fromAddress = (localAddress: string, path: string, token: string) =>
    new Promise<number>((done, fail) => {
      const request = httpRequest(`${PHANTOM}${path}`, {
        localAddress,
        headers: { authorization: `Bearer ${token}` },
      });
      request.on('response', (response) => {
        response.resume();
        response.on('end', () => done(response.statusCode ?? 0));
      });
      request.on('error', fail);
      request.end();
    });

  it('answers a flood of made-up references from one address 429 once its budget is spent, and auth-service is asked no more (G3)', async () => {
    // Swapped before the flood: its swap is cached, and it counts on its own budget.
    const { access } = await signIn();
    const { access: fresh } = await signIn();
    expect((await at(PHANTOM, '/api/notes', access)).status).toBe(200);
    const before = await introspections();
    const statuses: number[] = [];
    let over: Awaited<ReturnType<typeof at>> | undefined;
    while (statuses.length < PHANTOM_BUDGET + 10 && statuses.filter((s) => s === 429).length < 10) {
      const answer = await at(PHANTOM, '/api/notes', randomBytes(32).toString('base64url'));
      statuses.push(answer.status);
      over ??= answer.status === 429 ? answer : undefined;
    }
    const refusedFrom = statuses.indexOf(429);
    let asked = (await introspections()) - before;
    // auth-service counts a request when its answer is written: the last one may lag a moment.
    for (
      const started = performance.now();
      asked < refusedFrom && performance.now() - started < 2000;

    ) {
      await new Promise((done) => setTimeout(done, 20));
      asked = (await introspections()) - before;
    }
    console.log(
      `made-up references: ${refusedFrom} answered 401 before the first 429, ${statuses.length - refusedFrom} answered 429; auth-service introspected ${asked} (budget ${PHANTOM_BUDGET})`,
    );
    expect(refusedFrom).toBeGreaterThan(0);
    expect(refusedFrom).toBeLessThanOrEqual(PHANTOM_BUDGET);
    expect(statuses.slice(0, refusedFrom).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(refusedFrom).every((status) => status === 429)).toBe(true);
    // One introspection per made-up reference let through, none for those refused 429.
    expect(asked).toBe(refusedFrom);
    expect(over?.headers.get('ratelimit-limit')).toBe(String(PHANTOM_BUDGET));
    expect(over?.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(over?.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
    expect(Number(over?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(over?.body).toMatchObject({ statusCode: 429, requestId: expect.any(String) });
    // The valid reference swapped before: on its caller's budget, unaffected.
    expect((await at(PHANTOM, '/api/notes', access)).status).toBe(200);
    // Another address has a budget of its own: a made-up reference is looked up (401), a valid
    // one new to the gateway swapped (200).
    expect(
      await fromAddress('127.0.0.2', '/api/notes', randomBytes(32).toString('base64url')),
    ).toBe(401);
    expect(await fromAddress('127.0.0.2', '/api/notes', fresh)).toBe(200);
    // The price: from the flooding address, a valid reference new to the gateway waits too.
    const { access: late } = await signIn();
    expect((await at(PHANTOM, '/api/notes', late)).status).toBe(429);
  });
});
