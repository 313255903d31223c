import { TestIssuer } from '@tessera/auth-testing';
import { call, claimsOf, registerAndLogin, startTesseraSystem } from './support/tessera-system';
import type { TesseraSystem, TokenPair } from './support/tessera-system';

/**
 * Issuer down (O2): with auth-service stopped, resource-service keeps accepting valid tokens with
 * the keys it cached and keeps refusing bad ones, quickly and with 401 rather than 5xx; the one
 * route that must ask auth-service (DELETE /notes) says 503. When auth-service is back, nothing
 * is restarted: new logins work and logouts are enforced again.
 */

let system: TesseraSystem;
let stranger: TestIssuer;
const notes = () => `${system.resourceUrl}/notes`;

/** Tokens resource-service must refuse whether or not it can reach auth-service. */
const BAD_TOKENS = [
  'a tampered payload',
  'an unknown key id (a refetch the issuer cannot answer)',
  "another key's signature under the real key id",
  'no signature',
  'not a JWT',
] as const;

function badToken(kind: (typeof BAD_TOKENS)[number], valid: string): string {
  const [header, payload, signature] = valid.split('.');
  const claims = claimsOf(valid);
  switch (kind) {
    case 'a tampered payload':
      return `${header}.${Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url')}.${signature}`;
    case 'an unknown key id (a refetch the issuer cannot answer)':
      return stranger.accessToken({ ...claims, iss: system.issuer });
    case "another key's signature under the real key id":
      return stranger.sign(JSON.parse(Buffer.from(header, 'base64url').toString()), claims);
    case 'no signature':
      return `${header}.${payload}.`;
    case 'not a JWT':
      return 'not-a-token';
  }
}

beforeAll(async () => {
  stranger = await TestIssuer.start({ audience: 'resource-service' });
  system = await startTesseraSystem({
    authPort: 13051,
    resourcePort: 13052,
    name: 'o2',
    resourceEnv: { AUTH_CLOCK_TOLERANCE: '0' },
  });
});

afterAll(async () => {
  await stranger?.stop();
  expect(await system?.stop()).toEqual([0, 0]);
});

describe('resource-service while auth-service is down (O2)', () => {
  let before: TokenPair;

  it('stops auth-service gracefully while resource-service follows its revocation log', async () => {
    before = await registerAndLogin(system.issuer, `o2-before-${Date.now()}@example.com`);
    expect((await call(notes(), 'GET', undefined, before.access_token)).status).toBe(200);
    // Let the revocation stream open, so the stop below has a live follower to end.
    await new Promise((done) => setTimeout(done, 500));

    const started = performance.now();
    expect(await system.auth.stop()).toBe(0);
    const stopMs = performance.now() - started;
    console.log(`auth-service stopped in ${Math.round(stopMs)} ms with a follower connected`);
    expect(stopMs).toBeLessThan(3000);
  });

  it('keeps accepting a valid token for reads and writes, with the keys it cached', async () => {
    for (let request = 0; request < 20; request += 1) {
      expect((await call(notes(), 'GET', undefined, before.access_token)).status).toBe(200);
    }
    const written = await call(
      notes(),
      'POST',
      { title: 'written during O2' },
      before.access_token,
    );
    expect(written.status).toBe(201);
    const me = await call(`${system.resourceUrl}/me`, 'GET', undefined, before.access_token);
    expect(me.status).toBe(200);
  });

  it.each(BAD_TOKENS)('keeps refusing %s: 401 invalid_token, fast', async (kind) => {
    const answer = await call(notes(), 'GET', undefined, badToken(kind, before.access_token));
    expect(answer.status).toBe(401);
    expect(answer.challenge).toMatch(/^Bearer .*error="invalid_token"/);
    expect(answer.ms).toBeLessThan(1000);
  });

  it('answers 503 on the one route that must ask auth-service (DELETE /notes)', async () => {
    const answer = await call(notes(), 'DELETE', undefined, before.access_token);
    expect(answer).toMatchObject({ status: 503, body: { statusCode: 503 } });
  });

  it('stays ready: its readiness is about its own database, not the issuer', async () => {
    expect((await call(`${system.resourceUrl}/health/ready`, 'GET')).status).toBe(200);
  });

  it('needs no restart once auth-service is back: new logins work and a logout is enforced', async () => {
    const pid = system.resource.pid;
    await system.restartAuth();
    const after = await registerAndLogin(system.issuer, `o2-after-${Date.now()}@example.com`);
    expect((await call(notes(), 'GET', undefined, after.access_token)).status).toBe(200);
    expect((await call(notes(), 'GET', undefined, before.access_token)).status).toBe(200);

    const logout = await call(`${system.issuer}/auth/logout`, 'POST', {
      refresh_token: before.refresh_token,
    });
    expect(logout.status).toBe(204);
    const loggedOut = performance.now();
    while ((await call(notes(), 'GET', undefined, before.access_token)).status !== 401) {
      if (performance.now() - loggedOut > 10_000) throw new Error('the logout never arrived');
      await new Promise((done) => setTimeout(done, 20));
    }
    console.log(
      `after auth-service came back, a logout was enforced in ${Math.round(performance.now() - loggedOut)} ms`,
    );
    expect((await call(notes(), 'DELETE', undefined, after.access_token)).status).toBe(200);
    expect(system.resource.pid).toBe(pid);
  });
});
