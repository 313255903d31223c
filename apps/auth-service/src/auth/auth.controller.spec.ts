import { Metrics } from '@tessera/platform';
import { createTestApplication } from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import { AppModule } from '../app.module';
import { Clock } from '@tessera/auth-token';
import { authServiceConfig } from '../config/auth-service.config';
import { LoginService } from '../login/login.service';
import { SessionsService } from '../sessions/sessions.service';
import { UsersService } from '../users/users.service';

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

function client(service: TestApplication) {
  return async (
    method: string,
    path: string,
    options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply> => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : {},
    };
  };
}

/** The payload of a JWT, unverified: what the tests check the claims of. */
function claimsOf(token: unknown): Record<string, unknown> {
  return JSON.parse(Buffer.from(String(token).split('.')[1] ?? '', 'base64url').toString());
}

let accounts = 0;
/**
 * A new account, logged in for auth-service's account API (`resource: 'auth-service'`), so its
 * access token works at /auth/sessions, /auth/password and the like.
 */
async function signUp(call: ReturnType<typeof client>, scope?: string) {
  accounts += 1;
  const email = `person${accounts}@example.com`;
  const password = `a long passphrase ${accounts}`;
  expect((await call('POST', '/auth/register', { body: { email, password } })).status).toBe(201);
  const login = await call('POST', '/auth/login', {
    body: { email, password, scope, resource: 'auth-service' },
  });
  return { email, password, login };
}

describe('auth-service HTTP wiring', () => {
  let service: TestApplication;
  let call: ReturnType<typeof client>;

  beforeAll(async () => {
    service = await createTestApplication(AppModule, authServiceConfig);
    call = client(service);
  });
  afterAll(() => service.close());

  it.each([
    ['GET', '/auth/sessions'],
    ['POST', '/auth/logout-all'],
    ['POST', '/auth/password'],
    ['DELETE', '/auth/sessions/6f1c2b9e-1d2a-4c3b-9e8f-0a1b2c3d4e5f'],
    ['POST', '/admin/keys/rotate'],
    ['POST', '/admin/users/6f1c2b9e-1d2a-4c3b-9e8f-0a1b2c3d4e5f/disable'],
  ])('refuses %s %s without a token, with a bare Bearer challenge', async (method, path) => {
    const reply = await call(method, path);
    expect(reply.status).toBe(401);
    expect(reply.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('answers a bad token with error="invalid_token" and nothing more', async () => {
    const reply = await call('GET', '/auth/sessions', { token: 'eyJhbGciOiJub25lIn0.e30.' });
    expect(reply.status).toBe(401);
    expect(reply.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(reply.body['message']).toBe('The access token is invalid or expired');
  });

  it('counts each refusal of its own guards in tessera_guard_refusals_total, by reason', async () => {
    const counts = async () => {
      const exposition = await service.app.get(Metrics).render();
      return Object.fromEntries(
        [...exposition.matchAll(/^tessera_guard_refusals_total\{reason="(\w+)"\} (\d+)$/gm)].map(
          ([, reason, count]) => [reason, Number(count)],
        ),
      );
    };
    const { login } = await signUp(call);
    const token = login.body['access_token'] as string;
    const [header, payload] = token.split('.');
    const before = await counts();

    expect((await call('GET', '/auth/sessions')).status).toBe(401);
    expect((await call('GET', '/auth/sessions', { token: 'not one token' })).status).toBe(401);
    expect((await call('GET', '/auth/sessions?access_token=x', { token })).status).toBe(400);
    expect(
      (await call('GET', '/auth/sessions', { token: `${header}.${payload}.AAAA` })).status,
    ).toBe(401);
    expect((await call('POST', '/admin/keys/rotate', { token })).status).toBe(403);
    expect((await call('POST', '/auth/logout', { body: {}, token })).status).toBe(204);
    expect((await call('GET', '/auth/sessions', { token })).status).toBe(401);

    const after = await counts();
    const added = Object.fromEntries(
      Object.keys(after)
        .map((reason) => [reason, (after[reason] ?? 0) - (before[reason] ?? 0)])
        .filter(([, count]) => count !== 0),
    );
    expect(added).toEqual({
      missing_token: 1,
      malformed: 1,
      ambiguous_token: 1,
      signature: 1,
      insufficient_scope: 1,
      revoked: 1,
    });
  });

  it('serves the public routes without a token', async () => {
    expect((await call('GET', '/.well-known/jwks.json')).status).toBe(200);
    expect((await call('GET', '/health/ready')).status).toBe(200);
    expect((await call('POST', '/auth/logout', { body: {} })).status).toBe(204);
  });

  it.each([
    [
      'an unknown field',
      { email: 'a@example.com', password: 'x', admin: true },
      'property admin should not exist',
    ],
    ['a missing password', { email: 'a@example.com' }, 'password'],
    [
      'an email that is not one',
      { email: 'nope', password: 'x' },
      'email must be an email address',
    ],
    ['a malformed scope', { email: 'a@example.com', password: 'x', scope: 'a  b' }, 'scope'],
  ])('refuses a login with %s with 400 and says why', async (_case, body, message) => {
    const reply = await call('POST', '/auth/login', { body });
    expect(reply.status).toBe(400);
    expect(String(reply.body['message'])).toContain(message);
  });

  it('narrows the scope on request and refuses a scope the client does not have', async () => {
    const { email, password, login } = await signUp(call, 'notes:read');
    expect(login.status).toBe(200);
    expect(login.body['scope']).toBe('notes:read');
    const wider = await call('POST', '/auth/login', {
      body: { email, password, scope: 'notes:read admin:all' },
    });
    expect(wider.status).toBe(400);
    // Services made by the service generator add their scopes after these (the registry's).
    expect(wider.body['message']).toMatch(
      /^scope may only include: openid email admin notes:read notes:write( |$)/,
    );
  });

  describe('RFC 8707 resource', () => {
    it("gives a login without resource the client's default audiences, which leave auth-service out", async () => {
      const { email, password } = await signUp(call);
      const login = await call('POST', '/auth/login', { body: { email, password } });
      expect(login.status).toBe(200);
      expect(claimsOf(login.body['access_token'])['aud']).toEqual(['resource-service']);
    });

    it('gives a login the audiences it names, one or several, and refuses others with invalid_target', async () => {
      const { email, password, login } = await signUp(call);
      const one = await call('POST', '/auth/login', {
        body: { email, password, resource: 'auth-service' },
      });
      expect(one.status).toBe(200);
      expect(claimsOf(one.body['access_token'])['aud']).toEqual(['auth-service']);
      const several = await call('POST', '/auth/login', {
        body: { email, password, resource: ['auth-service', 'resource-service', 'auth-service'] },
      });
      expect(claimsOf(several.body['access_token'])['aud']).toEqual([
        'auth-service',
        'resource-service',
      ]);
      const unknown = await call('POST', '/auth/login', {
        body: { email, password, resource: ['resource-service', 'orders-service'] },
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body).toMatchObject({ error: 'invalid_target' });
      expect(String(unknown.body['message'])).toMatch(/^resource may only name: /);
      expect(login.status).toBe(200);
    });

    it.each([
      ['an empty list', []],
      ['a value with a space', 'auth-service resource-service'],
      ['a number', 7],
      ['too many values', Array.from({ length: 21 }, (_, index) => `service-${index}`)],
    ])('refuses a login whose resource is %s with 400', async (_case, resource) => {
      const reply = await call('POST', '/auth/login', {
        body: { email: 'a@example.com', password: 'x', resource },
      });
      expect(reply.status).toBe(400);
      expect(String(reply.body['message'])).toContain('resource');
    });

    it('lets a refresh narrow the audiences but never widen them, and a refused one spends nothing', async () => {
      const { email, password } = await signUp(call);
      const both = await call('POST', '/auth/login', {
        body: { email, password, resource: ['auth-service', 'resource-service'] },
      });
      const narrowed = await call('POST', '/auth/refresh', {
        body: { refresh_token: both.body['refresh_token'], resource: 'resource-service' },
      });
      expect(narrowed.status).toBe(200);
      expect(claimsOf(narrowed.body['access_token'])['aud']).toEqual(['resource-service']);
      // The session keeps its grant: the next refresh without resource has it all again.
      const whole = await call('POST', '/auth/refresh', {
        body: { refresh_token: narrowed.body['refresh_token'] },
      });
      expect(claimsOf(whole.body['access_token'])['aud']).toEqual([
        'auth-service',
        'resource-service',
      ]);

      const notes = await call('POST', '/auth/login', { body: { email, password } });
      const widened = await call('POST', '/auth/refresh', {
        body: { refresh_token: notes.body['refresh_token'], resource: 'auth-service' },
      });
      expect(widened.status).toBe(400);
      expect(widened.body).toMatchObject({ error: 'invalid_target' });
      // Past the reuse grace window: had the refusal spent the token, this would be reuse.
      const clock = jest
        .spyOn(service.app.get(Clock), 'now')
        .mockImplementation(() => new Date(Date.now() + 11_000));
      try {
        const retry = await call('POST', '/auth/refresh', {
          body: { refresh_token: notes.body['refresh_token'] },
        });
        expect(retry.status).toBe(200);
        expect(claimsOf(retry.body['access_token'])['aud']).toEqual(['resource-service']);
      } finally {
        clock.mockRestore();
      }
    });

    it('grants the admin scope only when asked for, and refuses it to a user without the admin role', async () => {
      const { email, password, login } = await signUp(call);
      expect(String(login.body['scope']).split(' ')).not.toContain('admin');
      const asked = await call('POST', '/auth/login', {
        body: { email, password, scope: 'admin notes:read' },
      });
      expect(asked.status).toBe(400);
      expect(asked.body).toMatchObject({ error: 'invalid_scope' });
    });
  });

  it("answers another user's session as not found, and ends one's own", async () => {
    const mine = await signUp(call);
    const theirs = await signUp(call);
    const token = mine.login.body['access_token'] as string;
    const theirSessions = await call('GET', '/auth/sessions', {
      token: theirs.login.body['access_token'] as string,
    });
    const theirId = (theirSessions.body['sessions'] as { id: string }[])[0]?.id;
    expect((await call('DELETE', `/auth/sessions/${theirId}`, { token })).status).toBe(404);

    const second = await call('POST', '/auth/login', {
      body: { email: mine.email, password: mine.password },
    });
    const sessions = (await call('GET', '/auth/sessions', { token })).body['sessions'] as {
      id: string;
      current: boolean;
    }[];
    const other = sessions.find((session) => !session.current);
    expect((await call('DELETE', `/auth/sessions/${other?.id}`, { token })).status).toBe(204);
    const refresh = await call('POST', '/auth/refresh', {
      body: { refresh_token: second.body['refresh_token'] },
    });
    expect(refresh.status).toBe(401);
  });

  it('answers a dead refresh token with 401 invalid_grant at /auth/refresh, where /oauth/token keeps 400', async () => {
    const { login } = await signUp(call);
    const ended = login.body['refresh_token'] as string;
    expect((await call('POST', '/auth/logout', { body: { refresh_token: ended } })).status).toBe(
      204,
    );
    for (const refresh_token of [ended, 'not-a-refresh-token']) {
      const reply = await call('POST', '/auth/refresh', { body: { refresh_token } });
      expect(reply.status).toBe(401);
      expect(reply.body).toEqual({
        statusCode: 401,
        error: 'invalid_grant',
        message: expect.any(String),
        requestId: expect.any(String),
      });
      expect(reply.headers.get('cache-control')).toBe('no-store');
    }
    const oauth = await fetch(`${service.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: 'tessera-first-party',
        refresh_token: 'not-a-refresh-token',
      }),
    });
    expect(oauth.status).toBe(400);
    expect(await oauth.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it.each([
    ['POST', '/auth/register', 'email=a%40example.com&password=a+long+passphrase'],
    ['POST', '/auth/login', 'email=a%40example.com&password=a+long+passphrase'],
    ['POST', '/auth/refresh', 'refresh_token=x'],
    ['POST', '/auth/logout', 'refresh_token=x'],
  ])('refuses a form-encoded or text body at %s %s with 415', async (method, path, body) => {
    for (const type of [
      'application/x-www-form-urlencoded',
      'text/plain',
      'multipart/form-data; boundary=x',
    ]) {
      const response = await fetch(`${service.url}${path}`, {
        method,
        headers: { 'content-type': type },
        body: type.startsWith('multipart')
          ? `--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n`
          : body,
      });
      expect({ type, status: response.status }).toEqual({ type, status: 415 });
      expect(Object.keys((await response.json()) as object).sort()).toEqual([
        'error',
        'message',
        'requestId',
        'statusCode',
      ]);
    }
  });

  it('logs out the session of an access token, idempotently, and refuses a forged one', async () => {
    const { login } = await signUp(call);
    const token = login.body['access_token'] as string;
    expect((await call('POST', '/auth/logout', { body: {}, token })).status).toBe(204);
    expect((await call('POST', '/auth/logout', { body: {}, token })).status).toBe(204);
    const refresh = await call('POST', '/auth/refresh', {
      body: { refresh_token: login.body['refresh_token'] },
    });
    expect(refresh.status).toBe(401);
    expect((await call('GET', '/auth/sessions', { token })).status).toBe(401);

    const [header, payload] = token.split('.');
    const forged = await call('POST', '/auth/logout', {
      body: {},
      token: `${header}.${payload}.AAAA`,
    });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });

  it('throttles guesses of the current password like logins, with 429 and Retry-After', async () => {
    const { password, login } = await signUp(call);
    const token = login.body['access_token'] as string;
    // LOGIN_PAIR_FAILURE_LIMIT (5) free failures, then this address waits (docs/security-model.md).
    for (let guess = 0; guess < 5; guess += 1) {
      const wrong = await call('POST', '/auth/password', {
        token,
        body: { current_password: `guess ${guess}`, new_password: 'a brand new passphrase' },
      });
      expect(wrong.status).toBe(400);
    }
    const throttled = await call('POST', '/auth/password', {
      token,
      body: { current_password: password, new_password: 'a brand new passphrase' },
    });
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('after a password change, gives the current session a fresh refresh-token family and ends every other', async () => {
    const { email, password, login } = await signUp(call);
    const other = await call('POST', '/auth/login', {
      body: { email, password, resource: 'auth-service' },
    });
    const before = await call('GET', '/auth/sessions', {
      token: login.body['access_token'] as string,
    });
    const changed = await call('POST', '/auth/password', {
      token: login.body['access_token'] as string,
      body: { current_password: password, new_password: 'a brand new passphrase' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      scope: login.body['scope'],
    });
    expect(changed.headers.get('cache-control')).toBe('no-store');
    // The session goes on, with the same grant; only its refresh tokens are new.
    expect(claimsOf(changed.body['access_token'])).toMatchObject({
      sid: claimsOf(login.body['access_token'])['sid'],
      aud: claimsOf(login.body['access_token'])['aud'],
    });
    // Every refresh token from before the change works no more, this session's included; and a
    // stale one presented now is refused without ending the session.
    for (const stale of [login, other]) {
      const refresh = await call('POST', '/auth/refresh', {
        body: { refresh_token: stale.body['refresh_token'] },
      });
      expect(refresh.status).toBe(401);
    }
    expect(
      (await call('GET', '/auth/sessions', { token: other.body['access_token'] as string })).status,
    ).toBe(401);
    const sessions = await call('GET', '/auth/sessions', {
      token: changed.body['access_token'] as string,
    });
    expect(sessions.body['sessions']).toEqual([
      expect.objectContaining({
        id: (before.body['sessions'] as { id: string; current: boolean }[]).find(
          (session) => session.current,
        )?.id,
        current: true,
      }),
    ]);
    const refreshed = await call('POST', '/auth/refresh', {
      body: { refresh_token: changed.body['refresh_token'] },
    });
    expect(refreshed.status).toBe(200);
    const relogin = await call('POST', '/auth/login', {
      body: { email, password: 'a brand new passphrase' },
    });
    expect(relogin.status).toBe(200);
  });

  describe('as an admin', () => {
    let adminToken: string;

    beforeAll(async () => {
      const { email, password } = await signUp(call);
      await service.app.get(UsersService).setRoles(email, ['user', 'admin']);
      const login = await call('POST', '/auth/login', {
        body: { email, password, scope: 'admin', resource: 'auth-service' },
      });
      adminToken = login.body['access_token'] as string;
    });

    it('grants an admin the admin scope when asked for, and not by default', async () => {
      const { email, password } = await signUp(call);
      await service.app.get(UsersService).setRoles(email, ['user', 'admin']);
      const plain = await call('POST', '/auth/login', { body: { email, password } });
      expect(String(plain.body['scope']).split(' ')).not.toContain('admin');
      const asked = await call('POST', '/auth/login', {
        body: { email, password, scope: 'admin notes:read', resource: 'auth-service' },
      });
      expect(asked.status).toBe(200);
      expect(asked.body['scope']).toBe('admin notes:read');
      expect(claimsOf(asked.body['access_token'])).toMatchObject({
        scope: 'admin notes:read',
        aud: ['auth-service'],
        roles: ['user', 'admin'],
      });
    });

    it('refuses the admin routes to a user without the admin role', async () => {
      const { login } = await signUp(call);
      const reply = await call('POST', '/admin/keys/rotate', {
        token: login.body['access_token'] as string,
      });
      expect(reply.status).toBe(403);
    });

    it('publishes the next signing key on request, before it signs', async () => {
      const before = (await call('GET', '/.well-known/jwks.json')).body['keys'] as unknown[];
      const rotated = await call('POST', '/admin/keys/rotate', { token: adminToken });
      expect(rotated.status).toBe(200);
      expect(rotated.body).toEqual({ kid: expect.any(String), activates_at: expect.any(String) });
      expect(Date.parse(rotated.body['activates_at'] as string)).toBeGreaterThan(Date.now());
      const after = (await call('GET', '/.well-known/jwks.json')).body['keys'] as { kid: string }[];
      expect(after).toHaveLength(before.length + 1);
      expect(after.map((key) => key.kid)).toContain(rotated.body['kid']);
    });

    it('disables a user: their sessions end and their logins are refused', async () => {
      const { email, password, login } = await signUp(call);
      const sessions = await call('GET', '/auth/sessions', {
        token: login.body['access_token'] as string,
      });
      const userId = (await service.app.get(UsersService).findByEmail(email))?.id;
      expect(sessions.status).toBe(200);
      expect(
        (await call('POST', `/admin/users/${userId}/disable`, { token: adminToken })).status,
      ).toBe(204);
      const refresh = await call('POST', '/auth/refresh', {
        body: { refresh_token: login.body['refresh_token'] },
      });
      expect(refresh.status).toBe(401);
      expect((await call('POST', '/auth/login', { body: { email, password } })).status).toBe(401);
      expect(
        (await call('GET', '/auth/sessions', { token: login.body['access_token'] as string }))
          .status,
      ).toBe(401);
    });

    it('leaves no live session for a user disabled while their login is in flight', async () => {
      const { email, password } = await signUp(call);
      const userId = (await service.app.get(UsersService).findByEmail(email))?.id as string;
      const logins = service.app.get(LoginService);
      const authenticate = logins.authenticate.bind(logins);
      // The admin's disable lands between the password check and the session's start.
      jest.spyOn(logins, 'authenticate').mockImplementationOnce(async (credentials) => {
        const user = await authenticate(credentials);
        const disabled = await call('POST', `/admin/users/${userId}/disable`, {
          token: adminToken,
        });
        expect(disabled.status).toBe(204);
        return user;
      });
      const reply = await call('POST', '/auth/login', { body: { email, password } });
      expect(reply.status).toBe(401);
      expect(reply.body).not.toHaveProperty('refresh_token');
      expect(await service.app.get(SessionsService).listForUser(userId)).toEqual([]);
    });
  });
});

describe('auth-service with REFRESH_TOKEN_COOKIE=true', () => {
  let service: TestApplication;
  let call: ReturnType<typeof client>;

  beforeAll(async () => {
    service = await createTestApplication(AppModule, authServiceConfig, {
      REFRESH_TOKEN_COOKIE: 'true',
    });
    call = client(service);
  });
  afterAll(() => service.close());

  const cookieOf = (reply: Reply) => (reply.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  /** What a browser client of cookie mode sends: the CSRF header on every call. */
  const browser: ReturnType<typeof client> = (method, path, options = {}) =>
    call(method, path, { ...options, headers: { 'x-tessera-csrf': '1', ...options.headers } });

  it('keeps the refresh token out of reach of scripts, and refresh and logout need the CSRF header', async () => {
    const { login } = await signUp(browser);
    expect(login.status).toBe(200);
    expect(login.body).not.toHaveProperty('refresh_token');
    const setCookie = login.headers.get('set-cookie') ?? '';
    // __Host-: Secure, Path=/ and no Domain, or browsers refuse it.
    expect(setCookie).toMatch(/^__Host-tessera_refresh=[A-Za-z0-9_-]{43};/);
    for (const attribute of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/;']) {
      expect(`${setCookie};`).toContain(attribute);
    }
    expect(setCookie).not.toMatch(/domain=/i);

    const forged = await call('POST', '/auth/refresh', {
      body: {},
      headers: { cookie: cookieOf(login) },
    });
    expect(forged.status).toBe(403);
    expect(forged.body['message']).toBe('Send the header x-tessera-csrf: 1 with this request');

    const refreshed = await call('POST', '/auth/refresh', {
      body: {},
      headers: { cookie: cookieOf(login), 'x-tessera-csrf': '1' },
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).not.toHaveProperty('refresh_token');
    expect(cookieOf(refreshed)).not.toBe(cookieOf(login));

    const logout = await call('POST', '/auth/logout', {
      body: {},
      headers: { cookie: cookieOf(refreshed), 'x-tessera-csrf': '1' },
    });
    expect(logout.status).toBe(204);
    expect(logout.headers.get('set-cookie')).toContain('Max-Age=0');
    const after = await call('POST', '/auth/refresh', {
      body: {},
      headers: { cookie: cookieOf(refreshed), 'x-tessera-csrf': '1' },
    });
    expect(after.status).toBe(401);
  });

  it('needs the CSRF header on login, password change and logout-all too (login CSRF), and JSON bodies', async () => {
    const { email, password, login } = await signUp(browser);
    const token = login.body['access_token'] as string;
    const credentials = { email, password, resource: 'auth-service' };
    const bare = await call('POST', '/auth/login', { body: credentials });
    expect(bare.status).toBe(403);
    expect(bare.headers.get('set-cookie')).toBeNull();
    // What a cross-site HTML form sends: a form body, no custom header. Refused before anything.
    const form = await fetch(`${service.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email, password }),
    });
    expect(form.status).toBe(415);
    expect(form.headers.get('set-cookie')).toBeNull();
    const change = { current_password: password, new_password: 'another long passphrase' };
    expect((await call('POST', '/auth/password', { token, body: change })).status).toBe(403);
    expect((await call('POST', '/auth/logout-all', { token })).status).toBe(403);
    expect((await browser('POST', '/auth/logout-all', { token })).status).toBe(204);
  });

  it('refuses two refresh cookies rather than trust the first', async () => {
    const { login } = await signUp(browser);
    const { login: other } = await signUp(browser);
    const twice = await browser('POST', '/auth/refresh', {
      body: {},
      headers: { cookie: `${cookieOf(other)}; ${cookieOf(login)}` },
    });
    expect(twice.status).toBe(400);
    expect(twice.body['message']).toMatch(/2 __Host-tessera_refresh cookies/);
    // Neither was spent.
    for (const one of [login, other]) {
      const alone = await browser('POST', '/auth/refresh', {
        body: {},
        headers: { cookie: cookieOf(one) },
      });
      expect(alone.status).toBe(200);
    }
  });

  it('moves the fresh refresh token of a password change into the cookie', async () => {
    const { password, login } = await signUp(browser);
    const changed = await browser('POST', '/auth/password', {
      token: login.body['access_token'] as string,
      body: { current_password: password, new_password: 'a brand new passphrase' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).not.toHaveProperty('refresh_token');
    expect(changed.body['access_token']).toEqual(expect.any(String));
    expect(cookieOf(changed)).toMatch(/^__Host-tessera_refresh=[A-Za-z0-9_-]{43}$/);
    expect(cookieOf(changed)).not.toBe(cookieOf(login));
    const stale = await call('POST', '/auth/refresh', {
      body: {},
      headers: { cookie: cookieOf(login), 'x-tessera-csrf': '1' },
    });
    expect(stale.status).toBe(401);
    const fresh = await call('POST', '/auth/refresh', {
      body: {},
      headers: { cookie: cookieOf(changed), 'x-tessera-csrf': '1' },
    });
    expect(fresh.status).toBe(200);
  });
});
