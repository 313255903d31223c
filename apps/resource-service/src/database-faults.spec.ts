import { TestIssuer } from '@tessera/auth-testing';
import { createTestApplication, createTestDatabase, TcpProxy } from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import { AppModule } from './app.module';
import { resourceServiceConfig } from './config/resource-service.config';

/**
 * O1 for resource-service: while its database is away the notes endpoints answer a quick 503,
 * token checks go on unaffected (a bad token is still 401, /me still answers), and everything
 * recovers by itself.
 */
describe('resource-service when its database goes away and comes back', () => {
  let issuer: TestIssuer;
  let proxy: TcpProxy;
  let service: TestApplication;

  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const started = performance.now();
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: {
        ...(token && { authorization: `Bearer ${token}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    await response.arrayBuffer();
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      ms: performance.now() - started,
    };
  };

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: 'resource-service' });
    const database = await createTestDatabase('notes_faults');
    proxy = await TcpProxy.start(new URL(database));
    service = await createTestApplication(AppModule, resourceServiceConfig, {
      AUTH_ISSUER: issuer.issuer,
      DATABASE_URL: proxy.rewrite(database),
    });
  });
  afterAll(async () => {
    await proxy.restore();
    await service.close();
    await proxy.stop();
    await issuer.stop();
  });

  it('answers 503 for notes, keeps checking tokens, and recovers by itself', async () => {
    const token = issuer.accessToken({ sub: 'ada', scope: 'notes:read notes:write' });
    expect((await call('POST', '/notes', token, { title: 'kept' })).status).toBe(201);

    await proxy.cut();
    for (const [method, path] of [
      ['GET', '/notes'],
      ['POST', '/notes'],
    ] as const) {
      const reply = await call(method, path, token, method === 'POST' ? { title: 'x' } : undefined);
      expect({ path, method, status: reply.status, retryAfter: reply.retryAfter }).toEqual({
        path,
        method,
        status: 503,
        retryAfter: '5',
      });
      expect(reply.ms).toBeLessThan(2000);
    }
    expect((await call('GET', '/notes', 'not.a.token')).status).toBe(401);
    expect((await call('GET', '/me', token)).status).toBe(200);
    expect((await call('GET', '/health/ready')).status).toBe(503);
    expect((await call('GET', '/health/live')).status).toBe(200);

    await proxy.restore();
    const back = performance.now();
    while ((await call('GET', '/notes', token)).status !== 200) {
      if (performance.now() - back > 10_000) throw new Error('resource-service did not recover');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
});
