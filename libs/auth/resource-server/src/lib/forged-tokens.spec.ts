import { describeForgedTokens, forgeryHeader, TestIssuer } from '@tessera/auth-testing';
import { createGuardTestApplication, get } from './guard-test-application.spec-helper';
import type { GuardTestApplication } from './guard-test-application.spec-helper';

/**
 * The forged-token table of `@tessera/auth-testing` (every forgery an R item of the security
 * checklist names) against a service guarded by AuthModule over real HTTP, and what the table
 * cannot say generically: the principal, kid floods, accepted typ spellings, leeway, duplicate
 * claims, oversized headers. apps/gateway-e2e runs the same table through the gateway.
 */

let issuer: TestIssuer;
let attacker: TestIssuer;
let service: GuardTestApplication;

const header = (changes: Record<string, unknown> = {}) => forgeryHeader(issuer, changes);

beforeAll(async () => {
  issuer = await TestIssuer.start({ audience: 'guarded-service' });
  attacker = await TestIssuer.start({ audience: 'guarded-service' });
  service = await createGuardTestApplication(issuer.moduleOptions({ jwksCooldown: 3600 }));
});
afterAll(async () => {
  await service.close();
  await Promise.all([issuer.stop(), attacker.stop()]);
});

describeForgedTokens('a service guarded by @tessera/auth', () => ({
  url: `${service.url}/me`,
  issuer,
  attacker,
}));

describe('a service guarded by @tessera/auth, beyond the table', () => {
  it('answers the valid token with its principal', async () => {
    const answer = await get(service.url, '/me', `Bearer ${issuer.accessToken({ sub: 'ada' })}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ subject: 'ada', issuer: issuer.issuer });
  });

  it('R11/R12: a flood of unknown kids costs no slowdown and at most one JWKS fetch', async () => {
    const before = issuer.requests;
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        get(
          service.url,
          '/me',
          `Bearer ${issuer.sign(header({ kid: `unknown-${index}` }), issuer.claims())}`,
        ),
      ),
    );
    expect(answers.every((answer) => answer.status === 401)).toBe(true);
    expect(issuer.requests - before).toBeLessThanOrEqual(1);
    // 200 refusals over loopback; a fetch per token or a hang would take far longer.
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('R14: accepts typ at+jwt in any casing and with the application/ prefix', async () => {
    for (const typ of ['AT+JWT', 'application/at+jwt', 'Application/At+Jwt']) {
      const token = issuer.sign(header({ typ }), issuer.claims());
      expect((await get(service.url, '/me', `Bearer ${token}`)).status).toBe(200);
    }
  });

  it('R17: accepts a token within the 30 s leeway after exp', async () => {
    const token = issuer.accessToken({}, { expiresIn: -20 });
    expect((await get(service.url, '/me', `Bearer ${token}`)).status).toBe(200);
  });

  it('R21: reads duplicate claims as the signature check did, and a __proto__ member grants nothing', async () => {
    const claims = JSON.stringify(issuer.claims({ sub: 'second' }));
    const duplicated = `{"sub":"first",${claims.slice(1)}`;
    const duplicate = await get(service.url, '/me', `Bearer ${issuer.sign(header(), duplicated)}`);
    expect(duplicate.status).toBe(200);
    expect(duplicate.body['subject']).toBe(JSON.parse(duplicated).sub);

    const base = issuer.claims({ roles: undefined });
    const polluted = `{"__proto__":{"roles":["admin"],"scope":"notes:read"},${JSON.stringify(base).slice(1)}`;
    const token = issuer.sign(header(), polluted);
    expect((await get(service.url, '/admin', `Bearer ${token}`)).status).toBe(403);
    expect((await get(service.url, '/notes', `Bearer ${token}`)).status).toBe(403);
    expect((await get(service.url, '/me', `Bearer ${token}`)).body).toMatchObject({
      roles: [],
      scopes: [],
    });
  });

  it('R22: answers a header too large for the server with 431, not a 5xx', async () => {
    const answer = await get(service.url, '/me', `Bearer ${'a'.repeat(20_000)}`);
    expect(answer.status).toBe(431);
  });
});
