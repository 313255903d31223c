import { createTestApplication, createTestDatabase, TcpProxy } from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import { AppModule } from './app.module';
import { authServiceConfig } from './config/auth-service.config';

/**
 * O1: auth-service's PostgreSQL goes away while it runs (the proxy in front of it is cut) and
 * comes back at the same address. Requests get a quick 503 with Retry-After, never a 500 or a
 * hang; readiness says so while liveness does not; it recovers by itself, and nothing issued
 * before is lost.
 */
describe('auth-service when its database goes away and comes back', () => {
  let proxy: TcpProxy;
  let service: TestApplication;
  const account = { email: 'fault@example.com', password: 'a long passphrase for faults' };

  const call = async (method: string, path: string, body?: unknown) => {
    const started = performance.now();
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
      ms: performance.now() - started,
    };
  };

  beforeAll(async () => {
    const database = await createTestDatabase('faults');
    proxy = await TcpProxy.start(new URL(database));
    service = await createTestApplication(AppModule, authServiceConfig, {
      DATABASE_URL: proxy.rewrite(database),
    });
  });
  afterAll(async () => {
    // A failed assertion may leave the database cut: the app needs it to close its pool.
    await proxy.restore();
    await service.close();
    await proxy.stop();
  });

  it('answers 503 quickly while the database is down, and recovers by itself with nothing lost', async () => {
    expect((await call('POST', '/auth/register', account)).status).toBe(201);
    const before = (await call('POST', '/auth/login', account)).body as Record<string, string>;
    expect(before['refresh_token']).toBeDefined();

    await proxy.cut();
    for (const [method, path, body] of [
      ['POST', '/auth/login', account],
      ['POST', '/auth/refresh', { refresh_token: before['refresh_token'] }],
      [
        'POST',
        '/auth/register',
        { email: 'other@example.com', password: 'another long passphrase' },
      ],
      ['GET', '/health/ready', undefined],
    ] as const) {
      const reply = await call(method, path, body);
      expect({ path, status: reply.status }).toEqual({ path, status: 503 });
      expect(reply.ms).toBeLessThan(2000);
      if (path !== '/health/ready') {
        expect(reply.retryAfter).toBe('5');
        expect(reply.body).toMatchObject({
          statusCode: 503,
          message: 'The database is unavailable; try again shortly',
        });
      }
    }
    expect((await call('GET', '/health/live')).status).toBe(200);

    await proxy.restore();
    const back = performance.now();
    while ((await call('GET', '/health/ready')).status !== 200) {
      if (performance.now() - back > 10_000) throw new Error('auth-service did not recover');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const refreshed = await call('POST', '/auth/refresh', {
      refresh_token: before['refresh_token'],
    });
    expect(refreshed.status).toBe(200);
    expect((await call('POST', '/auth/login', account)).status).toBe(200);
  });
});
