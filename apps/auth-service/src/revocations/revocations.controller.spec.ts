import { createTestApplication } from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import { randomBytes } from 'node:crypto';
import { AppModule } from '../app.module';
import { Clock } from '@tessera/auth-token';
import { authServiceConfig } from '../config/auth-service.config';
import type { RevocationEvent } from './revocations.service';
import { RevocationsService } from './revocations.service';
import { UsersService } from '../users/users.service';

const SECRET = randomBytes(32).toString('base64url');

/** A reader of GET /revocations: collects events, resolves `until()` when one matches. */
async function follow(url: string, token: string, lastEventId?: string) {
  const controller = new AbortController();
  const response = await fetch(`${url}/revocations`, {
    headers: {
      authorization: `Bearer ${token}`,
      ...(lastEventId && { 'last-event-id': lastEventId }),
    },
    signal: controller.signal,
  });
  const events: RevocationEvent[] = [];
  const types: string[] = [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const type = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (type) types.push(type);
          if (type === 'revocation' && data) events.push(JSON.parse(data));
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  const until = async (condition: () => boolean, ms = 3000) => {
    const deadline = Date.now() + ms;
    while (!condition()) {
      if (Date.now() > deadline)
        throw new Error(`not within ${ms} ms; events: ${JSON.stringify(events)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return {
    response,
    events,
    types,
    until,
    close: async () => {
      controller.abort();
      await reading;
    },
  };
}

describe('GET /revocations on real PostgreSQL', () => {
  let service: TestApplication;
  let accounts = 0;

  const post = async (path: string, body: unknown, token?: string) => {
    const response = await fetch(`${service.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token && { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : {} };
  };
  const serviceToken = async (scope = 'revocations:read') => {
    const response = await fetch(`${service.url}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`resource-service:${SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
    });
    return ((await response.json()) as { access_token: string }).access_token;
  };
  /** A new user with two sessions; by default logged in for auth-service's account API. */
  const signUp = async ({ resource }: { resource?: string } = { resource: 'auth-service' }) => {
    accounts += 1;
    const account = {
      email: `revoked${accounts}@example.com`,
      password: `a long passphrase ${accounts}`,
    };
    await post('/auth/register', account);
    const login = { ...account, ...(resource && { resource }) };
    const first = (await post('/auth/login', login)).body;
    const second = (await post('/auth/login', login)).body;
    const claims = (token: string) =>
      JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    return {
      account,
      first,
      second,
      sub: claims(first.access_token).sub as string,
      sid: (t: string) => claims(t).sid as string,
    };
  };

  beforeAll(async () => {
    service = await createTestApplication(AppModule, authServiceConfig, {
      CLIENT_SECRETS: `resource-service=${SECRET}`,
      REFRESH_REUSE_GRACE: '0',
    });
  });
  afterAll(() => service.close());

  it('is only for a service token with revocations:read', async () => {
    const user = await signUp({});
    const statusWith = async (token: string | undefined) => {
      const response = await fetch(`${service.url}/revocations`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      await response.body?.cancel();
      return response.status;
    };
    // No token, or a user's token for a resource service: 401. A service token for auth-service
    // without the scope: 403 insufficient_scope (RFC 6750 §3.1).
    expect(await statusWith(undefined)).toBe(401);
    expect(await statusWith(user.first.access_token)).toBe(401);
    expect(await statusWith(await serviceToken('tokens:introspect'))).toBe(403);
  });

  it('streams a logout, a logout-all, a password change, a reuse, a revocation and a disabled user as they happen', async () => {
    const feed = await follow(service.url, await serviceToken());
    try {
      expect(feed.response.headers.get('content-type')).toContain('text/event-stream');
      await feed.until(() => feed.types.includes('ready'));

      const logout = await signUp();
      await post('/auth/logout', { refresh_token: logout.first.refresh_token });
      await feed.until(() =>
        feed.events.some((event) => event.sid === logout.sid(logout.first.access_token)),
      );

      const everywhere = await signUp();
      await post('/auth/logout-all', {}, everywhere.first.access_token);
      await feed.until(() =>
        feed.events.some((event) => event.kind === 'user' && event.sub === everywhere.sub),
      );
      expect(
        feed.events.filter((event) => event.sub === everywhere.sub && event.kind === 'session'),
      ).toHaveLength(2);

      const password = await signUp();
      await post(
        '/auth/password',
        { current_password: password.account.password, new_password: 'an entirely new passphrase' },
        password.second.access_token,
      );
      await feed.until(() =>
        feed.events.some((event) => event.sid === password.sid(password.first.access_token)),
      );
      expect(
        feed.events.some((event) => event.sid === password.sid(password.second.access_token)),
      ).toBe(false);
      expect(feed.events.some((event) => event.kind === 'user' && event.sub === password.sub)).toBe(
        false,
      );

      const reuse = await signUp();
      await post('/auth/refresh', { refresh_token: reuse.first.refresh_token });
      await post('/auth/refresh', { refresh_token: reuse.first.refresh_token });
      await feed.until(() =>
        feed.events.some((event) => event.sid === reuse.sid(reuse.first.access_token)),
      );

      const revoke = await signUp();
      await fetch(`${service.url}/oauth/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: 'tessera-first-party',
          token: revoke.first.refresh_token,
        }).toString(),
      });
      await feed.until(() =>
        feed.events.some((event) => event.sid === revoke.sid(revoke.first.access_token)),
      );

      const admin = await signUp();
      await service.app.get(UsersService).setRoles(admin.account.email, ['user', 'admin']);
      const adminToken = (
        await post('/auth/login', { ...admin.account, scope: 'admin', resource: 'auth-service' })
      ).body.access_token as string;
      const disabled = await signUp();
      expect((await post(`/admin/users/${disabled.sub}/disable`, {}, adminToken)).status).toBe(204);
      await feed.until(() =>
        feed.events.some((event) => event.kind === 'user' && event.sub === disabled.sub),
      );

      const event = feed.events.find(
        (candidate) => candidate.sid === logout.sid(logout.first.access_token),
      );
      expect(event).toEqual({
        id: expect.stringMatching(/^\d+$/),
        kind: 'session',
        sub: logout.sub,
        sid: logout.sid(logout.first.access_token),
        revoked_at: expect.any(Number),
        exp_by: (event?.revoked_at ?? 0) + 900 + 60,
      });
    } finally {
      await feed.close();
    }
  });

  it('resumes after Last-Event-ID with every later event, and sends the earlier ones to a new follower', async () => {
    const first = await follow(service.url, await serviceToken());
    await first.until(() => first.types.includes('ready'));
    const lastId = first.events.at(-1)?.id ?? '0';
    const backlog = first.events.length;
    await first.close();

    const missed = await signUp();
    await post('/auth/logout', { refresh_token: missed.first.refresh_token });

    const resumed = await follow(service.url, await serviceToken(), lastId);
    const fresh = await follow(service.url, await serviceToken());
    try {
      await resumed.until(() => resumed.types.includes('ready'));
      await fresh.until(() => fresh.types.includes('ready'));
      expect(resumed.events.map((event) => event.sid)).toContain(
        missed.sid(missed.first.access_token),
      );
      expect(
        resumed.events.every(
          (event) =>
            BigInt(event.id) > BigInt(lastId) || event.revoked_at >= Date.now() / 1000 - 11,
        ),
      ).toBe(true);
      expect(fresh.events.length).toBeGreaterThan(backlog);
    } finally {
      await resumed.close();
      await fresh.close();
    }
  });

  it('forgets a revocation once no access token it covers can still be valid', async () => {
    const user = await signUp();
    await post('/auth/logout', { refresh_token: user.first.refresh_token });
    const revocations = service.app.get(RevocationsService);
    const sid = user.sid(user.first.access_token);
    expect((await revocations.since('0')).some((event) => event.sid === sid)).toBe(true);
    const clock = service.app.get(Clock);
    const real = clock.now.bind(clock);
    clock.now = () => new Date(real().getTime() + (900 + 61) * 1000);
    try {
      expect((await revocations.since('0')).some((event) => event.sid === sid)).toBe(false);
      expect(await revocations.prune()).toBeGreaterThan(0);
    } finally {
      clock.now = real;
    }
  });
});
