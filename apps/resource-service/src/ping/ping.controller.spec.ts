import { TestIssuer } from '@tessera/auth-testing';
import { createTestApplication } from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import { AppModule } from '../app.module';
import { resourceServiceConfig } from '../config/resource-service.config';

/** The wiring of the small routes: /ping open, /ping/guarded and /me behind the guard. */
describe('resource-service ping and me routes', () => {
  let issuer: TestIssuer;
  let service: TestApplication;

  const get = async (path: string, token?: string) => {
    const response = await fetch(`${service.url}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return {
      status: response.status,
      challenge: response.headers.get('www-authenticate'),
      body: (await response.json()) as Record<string, unknown>,
    };
  };

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: 'resource-service' });
    service = await createTestApplication(AppModule, resourceServiceConfig, {
      AUTH_ISSUER: issuer.issuer,
    });
  });
  afterAll(async () => {
    await service.close();
    await issuer.stop();
  });

  it('answers GET /ping without a token', async () => {
    expect(await get('/ping')).toMatchObject({ status: 200, body: { pong: true } });
  });

  it('answers GET /ping/guarded only to a token with notes:read', async () => {
    expect(await get('/ping/guarded')).toMatchObject({ status: 401, challenge: 'Bearer' });
    const withoutScope = await get('/ping/guarded', issuer.accessToken({ scope: 'notes:write' }));
    expect(withoutScope).toMatchObject({ status: 403, body: { error: 'insufficient_scope' } });
    const withScope = await get('/ping/guarded', issuer.accessToken({ scope: 'notes:read' }));
    expect(withScope).toMatchObject({ status: 200, body: { pong: true } });
  });

  it('answers GET /ping/second-factor only to a token whose sign-in had a second factor (RFC 9470)', async () => {
    for (const claims of [{}, { amr: ['pwd'], acr: 'urn:tessera:acr:sfa' }]) {
      const refused = await get(
        '/ping/second-factor',
        issuer.accessToken({ scope: 'notes:read', ...claims }),
      );
      expect(refused).toMatchObject({
        status: 401,
        challenge:
          'Bearer error="insufficient_user_authentication", acr_values="urn:tessera:acr:mfa"',
        body: { error: 'insufficient_user_authentication' },
      });
    }
    const stepped = await get(
      '/ping/second-factor',
      issuer.accessToken({
        scope: 'notes:read',
        amr: ['pwd', 'otp', 'mfa'],
        acr: 'urn:tessera:acr:mfa',
      }),
    );
    expect(stepped).toMatchObject({ status: 200, body: { pong: true } });
  });

  it('answers GET /ping/verified only to a token that says the address is verified', async () => {
    const unverified = await get(
      '/ping/verified',
      issuer.accessToken({ scope: 'notes:read', email_verified: false }),
    );
    expect(unverified).toMatchObject({
      status: 403,
      challenge: expect.stringContaining('error="email_not_verified"'),
    });
    const unsaid = await get('/ping/verified', issuer.accessToken({ scope: 'notes:read' }));
    expect(unsaid.status).toBe(403);
    const verified = await get(
      '/ping/verified',
      issuer.accessToken({ scope: 'notes:read', email_verified: true }),
    );
    expect(verified).toMatchObject({ status: 200, body: { pong: true } });
  });

  it('answers GET /me with the principal of any valid token, and refuses one for another service', async () => {
    expect((await get('/me')).status).toBe(401);
    const token = issuer.accessToken({ sub: 'ada', client_id: 'web', scope: '', roles: ['user'] });
    expect((await get('/me', token)).body).toMatchObject({
      subject: 'ada',
      issuer: issuer.issuer,
      clientId: 'web',
      scopes: [],
      roles: ['user'],
      kind: 'user',
    });
    const foreign = await get('/me', issuer.accessToken({ aud: ['billing-service'] }));
    expect(foreign).toMatchObject({ status: 401, challenge: 'Bearer error="invalid_token"' });
  });
});
