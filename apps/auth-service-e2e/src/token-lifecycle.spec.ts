import { createTestDatabase, ServiceProcess } from '@tessera/platform-testing';
import { createPublicKey, verify } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const PORT = 13011;
const url = `http://127.0.0.1:${PORT}`;
const main = resolve(__dirname, '../../../dist/apps/auth-service/main.js');

interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  scope: string;
}

let service: ServiceProcess;
let dataDir: string;
const secrets: string[] = [];

async function call(method: string, path: string, body?: unknown, accessToken?: string) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (accessToken) headers['authorization'] = `Bearer ${accessToken}`;
  const response = await fetch(`${url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { response, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

let counter = 0;
async function registerAndLogin(): Promise<{
  email: string;
  password: string;
  tokens: TokenResponse;
}> {
  counter += 1;
  const email = `user${counter}-${Date.now()}@example.com`;
  const password = `correct horse battery ${counter}`;
  secrets.push(password);
  expect((await call('POST', '/auth/register', { email, password })).response.status).toBe(201);
  // For the notes API and for auth-service's account API (/auth/sessions, /auth/password, …).
  const login = await call('POST', '/auth/login', {
    email,
    password,
    resource: ['auth-service', 'resource-service'],
  });
  expect(login.response.status).toBe(200);
  const tokens = login.body as unknown as TokenResponse;
  secrets.push(tokens.access_token, tokens.refresh_token);
  return { email, password, tokens };
}

async function refresh(refreshToken: string) {
  const result = await call('POST', '/auth/refresh', { refresh_token: refreshToken });
  if (result.response.status === 200) {
    const tokens = result.body as unknown as TokenResponse;
    secrets.push(tokens.access_token, tokens.refresh_token);
  }
  return result;
}

function decodeJwt(token: string) {
  const [header, payload, signature] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >,
    claims: JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >,
    signingInput: `${header}.${payload}`,
    signature: Buffer.from(signature ?? '', 'base64url'),
  };
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'auth-lifecycle-'));
  await chmod(dataDir, 0o755);
  service = await ServiceProcess.start({
    main,
    url,
    // A database of its own on the run's test PostgreSQL (starting an embedded one is the lifecycle
    // suite's business); DATA_DIR still holds the development key-encryption key it generates.
    env: {
      PORT: String(PORT),
      DATA_DIR: dataDir,
      DATABASE_URL: await createTestDatabase('token_lifecycle'),
      ISSUER: url,
      LOG_LEVEL: 'debug',
    },
  });
});

afterAll(async () => {
  expect(await service.stop()).toBe(0);
  await rm(dataDir, { recursive: true, force: true });
});

describe('auth-service token lifecycle over HTTP', () => {
  it('logs in with a Bearer access token and an opaque refresh token, never cached', async () => {
    const { tokens } = await registerAndLogin();
    expect(tokens).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      scope: expect.any(String),
    });
    const again = await call('POST', '/auth/login', {
      email: 'nobody@example.com',
      password: 'x'.repeat(12),
    });
    expect(again.response.status).toBe(401);
  });

  it('answers every token-bearing response with Cache-Control: no-store', async () => {
    const { email, password, tokens } = await registerAndLogin();
    const login = await fetch(`${url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    expect(login.headers.get('cache-control')).toBe('no-store');
    secrets.push(...Object.values((await login.json()) as Record<string, string>).map(String));
    const refreshed = await fetch(`${url}/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: tokens.refresh_token }),
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers.get('cache-control')).toBe('no-store');
    secrets.push(...Object.values((await refreshed.json()) as Record<string, string>).map(String));
  });

  it('signs access tokens as RFC 9068 JWTs with a key published in the JWKS', async () => {
    const { tokens } = await registerAndLogin();
    const jwt = decodeJwt(tokens.access_token);
    expect(jwt.header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
    expect(jwt.claims).toEqual({
      iss: url,
      sub: expect.any(String),
      // Services made by the service generator add their audience after it.
      aud: expect.arrayContaining(['resource-service']),
      exp: expect.any(Number),
      iat: expect.any(Number),
      jti: expect.any(String),
      client_id: expect.any(String),
      scope: expect.any(String),
      roles: ['user'],
      sid: expect.any(String),
      // How and when the user signed in (RFC 8176, RFC 9470): a password, just now.
      amr: ['pwd'],
      acr: 'urn:tessera:acr:sfa',
      auth_time: expect.any(Number),
      // Not until its owner follows the mailed link (docs/account-lifecycle.md).
      email_verified: false,
    });
    expect((jwt.claims['exp'] as number) - (jwt.claims['iat'] as number)).toBe(900);

    const jwksResponse = await fetch(`${url}/.well-known/jwks.json`);
    expect(jwksResponse.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const { keys } = (await jwksResponse.json()) as { keys: (JsonWebKey & { kid: string })[] };
    for (const key of keys) expect(key).not.toHaveProperty('d');
    const jwk = keys.find((key) => key.kid === jwt.header['kid']);
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', use: 'sig', alg: 'ES256' });
    const publicKey = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    const valid = verify(
      'sha256',
      Buffer.from(jwt.signingInput),
      { key: publicKey, dsaEncoding: 'ieee-p1363' },
      jwt.signature,
    );
    expect(valid).toBe(true);
  });

  it('gives each login its own session and unique token ids', async () => {
    const { email, password, tokens } = await registerAndLogin();
    const second = (await call('POST', '/auth/login', { email, password }))
      .body as unknown as TokenResponse;
    secrets.push(second.access_token, second.refresh_token);
    expect(decodeJwt(second.access_token).claims['sid']).not.toBe(
      decodeJwt(tokens.access_token).claims['sid'],
    );
    expect(decodeJwt(second.access_token).claims['jti']).not.toBe(
      decodeJwt(tokens.access_token).claims['jti'],
    );
  });

  it('rotates the refresh token on every refresh and answers a retry inside the grace window with the same successor', async () => {
    const { tokens } = await registerAndLogin();
    const first = await refresh(tokens.refresh_token);
    expect(first.response.status).toBe(200);
    const successor = (first.body as unknown as TokenResponse).refresh_token;
    expect(successor).not.toBe(tokens.refresh_token);
    const retry = await refresh(tokens.refresh_token);
    expect(retry.response.status).toBe(200);
    expect((retry.body as unknown as TokenResponse).refresh_token).toBe(successor);
  });

  it('treats a stolen, already-rotated refresh token as reuse and ends that session only', async () => {
    const { email, password, tokens } = await registerAndLogin();
    const other = (await call('POST', '/auth/login', { email, password }))
      .body as unknown as TokenResponse;
    secrets.push(other.access_token, other.refresh_token);
    const b = (await refresh(tokens.refresh_token)).body as unknown as TokenResponse;
    const c = (await refresh(b.refresh_token)).body as unknown as TokenResponse;
    expect(c.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // The attacker replays the first token after the legitimate client has moved on.
    const replay = await refresh(tokens.refresh_token);
    expect(replay.response.status).toBe(401);
    expect(replay.body).toMatchObject({ error: 'invalid_grant' });
    const legitimate = await refresh(c.refresh_token);
    expect(legitimate.response.status).toBe(401);
    expect((await refresh(other.refresh_token)).response.status).toBe(200);
  });

  it.each([
    ['an unknown token', 'A'.repeat(43)],
    ['an empty token', ''],
    ['a token with a flipped character', null],
  ])('refuses %s with 401 invalid_grant', async (_name, value) => {
    const { tokens } = await registerAndLogin();
    const token =
      value ?? (tokens.refresh_token[0] === 'A' ? 'B' : 'A') + tokens.refresh_token.slice(1);
    const result = await refresh(token);
    expect(result.response.status).toBe(401);
    expect(result.body).toMatchObject({ error: 'invalid_grant' });
  });

  it('logs out idempotently: the refresh token stops working and a second logout still succeeds', async () => {
    const { tokens } = await registerAndLogin();
    expect(
      (await call('POST', '/auth/logout', { refresh_token: tokens.refresh_token })).response.status,
    ).toBe(204);
    expect(
      (await call('POST', '/auth/logout', { refresh_token: tokens.refresh_token })).response.status,
    ).toBe(204);
    expect((await refresh(tokens.refresh_token)).response.status).toBe(401);
  });

  it("lists the caller's sessions, and logout-all ends every one of them", async () => {
    const { email, password, tokens } = await registerAndLogin();
    const second = (await call('POST', '/auth/login', { email, password }))
      .body as unknown as TokenResponse;
    secrets.push(second.access_token, second.refresh_token);
    const sessions = await call('GET', '/auth/sessions', undefined, tokens.access_token);
    expect(sessions.response.status).toBe(200);
    expect(sessions.body['sessions']).toHaveLength(2);

    expect(
      (await call('POST', '/auth/logout-all', undefined, tokens.access_token)).response.status,
    ).toBe(204);
    expect((await refresh(tokens.refresh_token)).response.status).toBe(401);
    expect((await refresh(second.refresh_token)).response.status).toBe(401);
  });

  it('changes the password, ending every other session and renewing the current one', async () => {
    const { email, password, tokens } = await registerAndLogin();
    const other = (await call('POST', '/auth/login', { email, password }))
      .body as unknown as TokenResponse;
    secrets.push(other.access_token, other.refresh_token);
    const next = `${password} but longer`;
    secrets.push(next);
    const change = await call(
      'POST',
      '/auth/password',
      { current_password: password, new_password: next },
      tokens.access_token,
    );
    expect(change.response.status).toBe(200);
    const renewed = change.body as unknown as TokenResponse;
    secrets.push(renewed.access_token, renewed.refresh_token);
    expect((await refresh(other.refresh_token)).response.status).toBe(401);
    // The current session goes on with a fresh refresh-token family: its old token is spent.
    expect((await refresh(tokens.refresh_token)).response.status).toBe(401);
    expect((await refresh(renewed.refresh_token)).response.status).toBe(200);
    expect((await call('POST', '/auth/login', { email, password })).response.status).toBe(401);
    expect((await call('POST', '/auth/login', { email, password: next })).response.status).toBe(
      200,
    );
  });

  it('refuses the session endpoints without a valid access token', async () => {
    expect((await call('GET', '/auth/sessions')).response.status).toBe(401);
    expect((await call('POST', '/auth/logout-all', undefined, 'not.a.token')).response.status).toBe(
      401,
    );
  });

  it('answers an unknown email and a wrong password with the same status and body', async () => {
    const { email } = await registerAndLogin();
    const wrong = await call('POST', '/auth/login', { email, password: 'not the password at all' });
    const unknown = await call('POST', '/auth/login', {
      email: `nobody-${Date.now()}@example.com`,
      password: 'not the password at all',
    });
    expect(wrong.response.status).toBe(401);
    expect(unknown.response.status).toBe(401);
    // Each body has its own requestId; everything else must match.
    expect({ ...wrong.body, requestId: null }).toEqual({ ...unknown.body, requestId: null });
  });

  it('slows failed logins on one account from one address with 429 and Retry-After, even for the right password', async () => {
    const { email, password } = await registerAndLogin();
    // LOGIN_PAIR_FAILURE_LIMIT (5) free failures, then this address waits (docs/security-model.md).
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const failed = await call('POST', '/auth/login', { email, password: `wrong ${attempt}` });
      expect(failed.response.status).toBe(401);
    }
    const throttled = await call('POST', '/auth/login', { email, password });
    expect(throttled.response.status).toBe(429);
    const retryAfter = Number(throttled.response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(throttled.body).toMatchObject({ statusCode: 429 });
  });

  it('never writes a token or a password to its logs', () => {
    expect(secrets.length).toBeGreaterThan(20);
    const leaked = secrets.filter((secret) => secret.length >= 8 && service.logs.includes(secret));
    expect(leaked).toEqual([]);
  });
});
