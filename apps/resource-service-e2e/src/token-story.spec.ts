import { Secret, TOTP } from 'otpauth';
import { call, claimsOf, startTesseraSystem } from './support/tessera-system';
import type { TesseraSystem } from './support/tessera-system';

/**
 * The story every Tessera user walks, with both services built and run as real processes on
 * real PostgreSQL: register → login → read notes → the access token expires → 401 → refresh →
 * read again → logout → the refresh token is dead. Walked twice, with the same answers: at the
 * services directly, and through the gateway in front of them (its routes.json: auth-service's
 * paths as they are, the notes API under /api).
 */

/** Short, so the test can watch a token expire; the resource service allows no leeway here. */
const ACCESS_TOKEN_TTL = 5;

let system: TesseraSystem;
let ISSUER: string;
let AUTH: string;
let RESOURCE: string;
const secrets: string[] = [];

/** Where a client sends auth-service's and resource-service's requests, each way. */
const WAYS = {
  directly: () => ({ auth: system.issuer, resource: system.resourceUrl }),
  'through the gateway': () => ({
    auth: system.gatewayUrl as string,
    resource: `${system.gatewayUrl}/api`,
  }),
};

beforeAll(async () => {
  system = await startTesseraSystem({
    authPort: 13021,
    resourcePort: 13022,
    gatewayPort: 13023,
    name: 'story',
    authEnv: { ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL), LOG_LEVEL: 'debug' },
    resourceEnv: { AUTH_CLOCK_TOLERANCE: '0', LOG_LEVEL: 'debug' },
  });
  ISSUER = system.issuer;
});

afterAll(async () => {
  expect(await system?.stop()).toEqual([0, 0]);
});

describe.each(Object.entries(WAYS))(
  'a user, auth-service and resource-service, %s',
  (_way, base) => {
    beforeAll(() => {
      ({ auth: AUTH, resource: RESOURCE } = base());
    });

    it('walks register → login → notes → expiry → refresh → logout', async () => {
      const email = `ada-${Date.now()}@example.com`;
      const password = 'correct horse battery staple';
      secrets.push(password);
      expect((await call(`${AUTH}/auth/register`, 'POST', { email, password })).status).toBe(201);

      const login = await call(`${AUTH}/auth/login`, 'POST', { email, password });
      expect(login.status).toBe(200);
      const first = login.body as { access_token: string; refresh_token: string };
      secrets.push(first.access_token, first.refresh_token);

      const created = await call(
        `${RESOURCE}/notes`,
        'POST',
        { title: 'first note' },
        first.access_token,
      );
      expect(created.status).toBe(201);
      const listed = await call(`${RESOURCE}/notes`, 'GET', undefined, first.access_token);
      expect(listed.status).toBe(200);
      expect(listed.body['items']).toEqual([expect.objectContaining({ title: 'first note' })]);
      const me = await call(`${RESOURCE}/me`, 'GET', undefined, first.access_token);
      expect(me.body).toMatchObject({
        issuer: ISSUER,
        kind: 'user',
        scopes: expect.arrayContaining(['notes:read', 'notes:write']),
      });

      // Wait out the access token, measured from its own exp.
      const wait = (claimsOf(first.access_token)['exp'] as number) * 1000 - Date.now() + 250;
      await new Promise((done) => setTimeout(done, Math.max(0, wait)));
      const expired = await call(`${RESOURCE}/notes`, 'GET', undefined, first.access_token);
      expect(expired.status).toBe(401);
      expect(expired.challenge).toBe('Bearer error="invalid_token"');

      const refreshed = await call(`${AUTH}/auth/refresh`, 'POST', {
        refresh_token: first.refresh_token,
      });
      expect(refreshed.status).toBe(200);
      const second = refreshed.body as { access_token: string; refresh_token: string };
      secrets.push(second.access_token, second.refresh_token);
      const again = await call(`${RESOURCE}/notes`, 'GET', undefined, second.access_token);
      expect(again.status).toBe(200);
      expect(again.body['items']).toEqual([expect.objectContaining({ title: 'first note' })]);

      expect(
        (await call(`${AUTH}/auth/logout`, 'POST', { refresh_token: second.refresh_token })).status,
      ).toBe(204);
      const dead = await call(`${AUTH}/auth/refresh`, 'POST', {
        refresh_token: second.refresh_token,
      });
      expect(dead.status).toBe(401);
      expect(dead.body['error']).toBe('invalid_grant');
    });

    it('confirms a delete of every note with auth-service, as resource-service itself, and refuses it once the session has ended', async () => {
      const email = `grace-${Date.now()}@example.com`;
      const password = 'correct horse battery staple';
      await call(`${AUTH}/auth/register`, 'POST', { email, password });
      const login = await call(`${AUTH}/auth/login`, 'POST', { email, password });
      const tokens = login.body as { access_token: string; refresh_token: string };
      secrets.push(tokens.access_token, tokens.refresh_token);
      for (const title of ['a', 'b']) {
        expect(
          (await call(`${RESOURCE}/notes`, 'POST', { title }, tokens.access_token)).status,
        ).toBe(201);
      }
      const deleted = await call(`${RESOURCE}/notes`, 'DELETE', undefined, tokens.access_token);
      expect(deleted).toMatchObject({ status: 200, body: { deleted: 2 } });

      await call(`${RESOURCE}/notes`, 'POST', { title: 'c' }, tokens.access_token);
      expect(
        (await call(`${AUTH}/auth/logout`, 'POST', { refresh_token: tokens.refresh_token })).status,
      ).toBe(204);
      const refused = await call(`${RESOURCE}/notes`, 'DELETE', undefined, tokens.access_token);
      expect(refused).toMatchObject({ status: 401, challenge: 'Bearer error="invalid_token"' });
    });

    it('refuses tokens that are not for it, and answers RFC 6750 challenges', async () => {
      expect(await call(`${RESOURCE}/notes`, 'GET')).toMatchObject({
        status: 401,
        challenge: 'Bearer',
      });
      const forged = await call(`${RESOURCE}/notes`, 'GET', undefined, 'eyJhbGciOiJub25lIn0.e30.');
      expect(forged).toMatchObject({ status: 401, challenge: 'Bearer error="invalid_token"' });
    });
  },
);

describe('a route that asks for a second factor (RFC 9470), at resource-service directly', () => {
  it('refuses a password-only token with the acr it needs, and takes one after a second factor', async () => {
    const AUTH = system.issuer;
    const PING = `${system.resourceUrl}/ping/second-factor`;
    const email = `katherine-${Date.now()}@example.com`;
    const password = 'correct horse battery staple';
    secrets.push(password);
    await call(`${AUTH}/auth/register`, 'POST', { email, password });
    const plain = await call(`${AUTH}/auth/login`, 'POST', { email, password });
    const passwordOnly = plain.body['access_token'] as string;
    secrets.push(passwordOnly);
    expect(claimsOf(passwordOnly)).toMatchObject({ amr: ['pwd'], acr: 'urn:tessera:acr:sfa' });
    expect(await call(PING, 'GET', undefined, passwordOnly)).toMatchObject({
      status: 401,
      challenge:
        'Bearer error="insufficient_user_authentication", acr_values="urn:tessera:acr:mfa"',
    });

    // An authenticator app, confirmed with a code computed here; its recovery codes come back.
    const account = await call(`${AUTH}/auth/login`, 'POST', {
      email,
      password,
      resource: ['auth-service'],
    });
    const accountToken = account.body['access_token'] as string;
    secrets.push(accountToken);
    const enrolment = await call(`${AUTH}/auth/mfa/totp`, 'POST', undefined, accountToken);
    const totp = new TOTP({ secret: Secret.fromBase32(enrolment.body['secret'] as string) });
    const confirmed = await call(
      `${AUTH}/auth/mfa/totp/confirm`,
      'POST',
      { code: totp.generate() },
      accountToken,
    );
    expect(confirmed.status).toBe(200);
    const [recoveryCode] = confirmed.body['recovery_codes'] as string[];

    // The password now asks for the second factor (a recovery code: the TOTP code of this step
    // is spent), and the token of that sign-in is let in.
    const first = await call(`${AUTH}/auth/login`, 'POST', { email, password });
    expect(first).toMatchObject({ status: 403, body: { error: 'mfa_required' } });
    const second = await call(`${AUTH}/auth/login/second-factor`, 'POST', {
      mfa_token: first.body['mfa_token'],
      recovery_code: recoveryCode,
    });
    const stepped = second.body['access_token'] as string;
    secrets.push(stepped);
    expect(claimsOf(stepped)).toMatchObject({
      amr: ['pwd', 'otp', 'mfa'],
      acr: 'urn:tessera:acr:mfa',
    });
    expect(await call(PING, 'GET', undefined, stepped)).toMatchObject({
      status: 200,
      body: { pong: true },
    });
  });
});

describe('every process of the story', () => {
  it('never writes a token, a password or a client secret to a log (R27)', () => {
    secrets.push(system.clientSecret);
    expect(secrets.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(system.auth.logs).not.toContain(secret);
      expect(system.resource.logs).not.toContain(secret);
      expect(system.gateway?.logs).not.toContain(secret);
    }
  });
});
