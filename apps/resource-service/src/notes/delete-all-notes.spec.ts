import { TestIssuer } from '@tessera/auth-testing';
import { createTestApplication } from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import { randomBytes } from 'node:crypto';
import { AppModule } from '../app.module';
import { resourceServiceConfig } from '../config/resource-service.config';

/**
 * DELETE /notes asks auth-service (here TestIssuer's introspection endpoint, reached with a
 * client-credentials token of resource-service's own) whether the caller's session is still live.
 */
describe('DELETE /notes, confirmed with auth-service', () => {
  const secret = randomBytes(32).toString('base64url');
  let issuer: TestIssuer;
  let service: TestApplication;

  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : {},
    };
  };
  const now = () => Math.floor(Date.now() / 1000);
  /** A user who signed in a minute ago (`auth_time`), as DELETE /notes asks. */
  const userToken = (sub: string, authTime = now() - 60) =>
    issuer.accessToken({ sub, scope: 'notes:read notes:write', auth_time: authTime });
  const count = async (token: string) => (await call('GET', '/notes', token)).body.items.length;

  beforeAll(async () => {
    issuer = await TestIssuer.start({
      audience: 'resource-service',
      clients: { 'resource-service': secret },
    });
    service = await createTestApplication(AppModule, resourceServiceConfig, {
      AUTH_ISSUER: issuer.issuer,
      AUTH_CLIENT_SECRET: secret,
    });
  });
  afterAll(async () => {
    await service.close();
    await issuer.stop();
  });

  it("deletes every note of the caller and none of anyone else's", async () => {
    const ada = userToken('ada');
    const bob = userToken('bob');
    for (const title of ['one', 'two', 'three']) await call('POST', '/notes', ada, { title });
    await call('POST', '/notes', bob, { title: "bob's" });
    const reply = await call('DELETE', '/notes', ada);
    expect(reply).toMatchObject({ status: 200, body: { deleted: 3 } });
    expect(await count(ada)).toBe(0);
    expect(await count(bob)).toBe(1);
  });

  it('refuses with 401 invalid_token a token whose session auth-service has revoked, though it still verifies locally', async () => {
    const token = userToken('carol');
    await call('POST', '/notes', token, { title: 'keep me' });
    issuer.revoke(token);
    expect((await call('GET', '/notes', token)).status).toBe(200);
    const reply = await call('DELETE', '/notes', token);
    expect(reply.status).toBe(401);
    expect(reply.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(await count(token)).toBe(1);
  });

  it('answers 503 with Retry-After, deleting nothing, when auth-service cannot be asked', async () => {
    const token = userToken('dave');
    await call('POST', '/notes', token, { title: 'keep me too' });
    issuer.available = false;
    try {
      const reply = await call('DELETE', '/notes', token);
      expect(reply.status).toBe(503);
      expect(reply.headers.get('retry-after')).toBe('5');
      expect(reply.body.message).toBe(
        'Cannot confirm your session with auth-service right now; try again shortly',
      );
    } finally {
      issuer.available = true;
    }
    expect(await count(token)).toBe(1);
  });

  it('refuses a sign-in over an hour old, or of unknown age, with the RFC 9470 challenge, deleting nothing', async () => {
    const fresh = userToken('gina');
    await call('POST', '/notes', fresh, { title: 'keep me' });
    for (const token of [
      userToken('gina', now() - 3601),
      issuer.accessToken({ sub: 'gina', scope: 'notes:read notes:write' }),
    ]) {
      const reply = await call('DELETE', '/notes', token);
      expect(reply).toMatchObject({
        status: 401,
        body: { error: 'insufficient_user_authentication' },
      });
      expect(reply.headers.get('www-authenticate')).toBe(
        'Bearer error="insufficient_user_authentication", max_age=3600',
      );
    }
    expect(await count(fresh)).toBe(1);
    expect((await call('DELETE', '/notes', userToken('gina', now() - 3500))).status).toBe(200);
  });

  it('needs notes:write like every other write', async () => {
    const reply = await call(
      'DELETE',
      '/notes',
      issuer.accessToken({ sub: 'erin', scope: 'notes:read' }),
    );
    expect(reply).toMatchObject({ status: 403, body: { error: 'insufficient_scope' } });
  });

  it('answers 503 when the service has no client secret to ask with', async () => {
    const unconfigured = await createTestApplication(AppModule, resourceServiceConfig, {
      AUTH_ISSUER: issuer.issuer,
    });
    try {
      const response = await fetch(`${unconfigured.url}/notes`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${userToken('frank')}` },
      });
      expect(response.status).toBe(503);
    } finally {
      await unconfigured.close();
    }
  });
});
