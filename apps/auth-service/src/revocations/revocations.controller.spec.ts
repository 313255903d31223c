import { RevocationFeed, ServiceTokenProvider } from '@tessera/auth-client';
import type { RevocationSink } from '@tessera/auth-client';
import { TEST_POSTGRES_URL_VARIABLE, createTestApplication } from '@tessera/platform-testing';
import { Client } from 'pg';
import type { TestApplication } from '@tessera/platform-testing';
import { randomBytes } from 'node:crypto';
import { AppModule } from '../app.module';
import { Clock } from '@tessera/auth-token';
import { authServiceConfig } from '../config/auth-service.config';
import type { RevocationEvent } from './revocations.service';
import { RevocationsService } from './revocations.service';
import { UsersService } from '../users/users.service';

const SECRET = randomBytes(32).toString('base64url');
/** Shared by a second instance on the same database. */
const KEY_ENCRYPTION_KEY = randomBytes(32).toString('base64');

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
  let readyId: string | undefined;
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
          if (type === 'ready') readyId = /^id: (.*)$/m.exec(block)?.[1];
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
    readyId: () => readyId,
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
      KEY_ENCRYPTION_KEY,
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

  describe('in commit order (issue 17)', () => {
    /** auth-client's RevocationFeed, as a resource service runs it, keeping what it applies. */
    let follower: { feed: RevocationFeed; applied: RevocationEvent[] };
    /** While true, the follower cannot reach GET /revocations (its fetch fails). */
    let unreachable = false;
    const realFetch = global.fetch;
    const applied = (sid: string) => follower.applied.filter((event) => event.sid === sid);
    const eventually = async (condition: () => boolean, what: string) => {
      for (const deadline = Date.now() + 3000; !condition(); ) {
        if (Date.now() > deadline) throw new Error(`never: ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    /** A transaction of its own that revokes a session, with a timestamp taken 11 s before. */
    const lateRevocation = async (sid: string) => {
      const late = new Client({ connectionString: service.databaseUrl });
      await late.connect();
      await late.query('BEGIN');
      await late.query(
        `UPDATE sessions SET revoked_at = now() - interval '11 seconds', revoked_reason = 'admin'
          WHERE id = $1`,
        [sid],
      );
      return {
        commit: async () => {
          await late.query('COMMIT');
          await late.end();
        },
      };
    };

    beforeAll(async () => {
      jest
        .spyOn(global, 'fetch')
        .mockImplementation((input, init) =>
          unreachable && String(input).endsWith('/revocations')
            ? Promise.reject(new Error('unreachable'))
            : realFetch(input, init),
        );
      follower = { applied: [], feed: undefined as unknown as RevocationFeed };
      const sink: RevocationSink = {
        add: (events) => void follower.applied.push(...events),
        prune: () => undefined,
      };
      follower.feed = new RevocationFeed(
        { uri: `${service.url}/revocations` },
        sink,
        new ServiceTokenProvider({
          client: {
            id: 'resource-service',
            secret: SECRET,
            tokenUri: `${service.url}/oauth/token`,
            introspectionUri: `${service.url}/oauth/introspect`,
            scope: 'revocations:read',
          },
          timeoutMs: 3000,
        }),
      );
      follower.feed.start();
      await follower.feed.ready();
    });
    afterAll(async () => {
      await follower.feed.stop();
      jest.restoreAllMocks();
    });

    it('delivers a revocation whose transaction commits after a later one, to a live follower', async () => {
      const user = await signUp();
      const [heldSid, otherSid] = [
        user.sid(user.first.access_token),
        user.sid(user.second.access_token),
      ];
      // The held transaction writes its row first, then waits; the other commits meanwhile.
      const late = await lateRevocation(heldSid);
      await post('/auth/logout', { refresh_token: user.second.refresh_token });
      await eventually(() => applied(otherSid).length === 1, 'the committed logout');
      expect(applied(heldSid)).toHaveLength(0);

      await late.commit();
      await eventually(() => applied(heldSid).length === 1, 'the late commit');
      // Positions follow the commits, not the order the rows were written in.
      expect(BigInt(applied(heldSid)[0].id)).toBeGreaterThan(BigInt(applied(otherSid)[0].id));
    });

    it('gives a follower that reconnects late every event committed while it was away, late commits included', async () => {
      const [before, away] = [await signUp(), await signUp()];
      const heldSid = before.sid(before.first.access_token);
      const late = await lateRevocation(heldSid);
      // The follower applies a later event, then goes away.
      await post('/auth/logout', { refresh_token: before.second.refresh_token });
      await eventually(
        () => applied(before.sid(before.second.access_token)).length === 1,
        'a logout',
      );
      unreachable = true;
      service.app.getHttpServer().closeAllConnections();
      await eventually(() => follower.feed.state === 'down', 'the follower down');

      // Meanwhile: a logout, the late commit, and a session deleted in SQL.
      await post('/auth/logout', { refresh_token: away.first.refresh_token });
      await late.commit();
      const database = new Client({ connectionString: service.databaseUrl });
      await database.connect();
      await database.query('DELETE FROM sessions WHERE id = $1', [
        away.sid(away.second.access_token),
      ]);
      await database.end();
      expect(applied(heldSid)).toHaveLength(0);

      unreachable = false;
      await eventually(() => follower.feed.state === 'live', 'the follower back');
      for (const sid of [
        heldSid,
        away.sid(away.first.access_token),
        away.sid(away.second.access_token),
      ])
        expect(applied(sid)).toHaveLength(1);
    });
  });

  it('announces a session deleted or truncated in SQL, or with its user, unless its tokens have all expired', async () => {
    const revocations = service.app.get(RevocationsService);
    const database = new Client({ connectionString: service.databaseUrl });
    await database.connect();
    const announced = async (sid: string) =>
      (await revocations.since()).events.filter((event) => event.sid === sid);
    try {
      const [one, other] = [await signUp(), await signUp()];
      const sid = one.sid(one.first.access_token);
      await database.query('DELETE FROM sessions WHERE id = $1', [sid]);
      const [event] = await announced(sid);
      expect(event).toMatchObject({ kind: 'session', sub: one.sub });
      expect(event.exp_by).toBeGreaterThanOrEqual(event.revoked_at + 900 + 60);

      // The pruner's sessions: ended long ago without a revocation; no token of theirs is valid.
      const expiredSid = one.sid(one.second.access_token);
      await database.query(
        `UPDATE sessions SET idle_expires_at = now() - interval '2 hours' WHERE id = $1`,
        [expiredSid],
      );
      await database.query('DELETE FROM sessions WHERE id = $1', [expiredSid]);
      expect(await announced(expiredSid)).toHaveLength(0);

      // TRUNCATE is not the service role's: an administrator's, undone.
      const otherSids = [other.sid(other.first.access_token), other.sid(other.second.access_token)];
      const adminUrl = new URL(process.env[TEST_POSTGRES_URL_VARIABLE] as string);
      adminUrl.pathname = new URL(service.databaseUrl).pathname;
      const admin = new Client({ connectionString: adminUrl.toString() });
      await admin.connect();
      await admin.query('BEGIN');
      await admin.query('TRUNCATE sessions CASCADE');
      const { rows } = await admin.query<{ session_id: string }>(
        'SELECT session_id FROM revocations WHERE position IS NULL',
      );
      await admin.query('ROLLBACK');
      await admin.end();
      expect(rows.map((row) => row.session_id)).toEqual(expect.arrayContaining(otherSids));

      await database.query('DELETE FROM users WHERE id = $1', [other.sub]);
      for (const otherSid of otherSids) expect(await announced(otherSid)).toHaveLength(1);
    } finally {
      await database.end();
    }
  });

  it('forgets a revocation once no access token it covers can still be valid, and resynchronises a follower behind what was pruned', async () => {
    const user = await signUp();
    await post('/auth/logout', { refresh_token: user.first.refresh_token });
    const revocations = service.app.get(RevocationsService);
    const sid = user.sid(user.first.access_token);
    const before = await revocations.since();
    expect(before.events.some((event) => event.sid === sid)).toBe(true);
    const clock = service.app.get(Clock);
    const real = clock.now.bind(clock);
    clock.now = () => new Date(real().getTime() + (900 + 61) * 1000);
    try {
      expect((await revocations.since()).events.some((event) => event.sid === sid)).toBe(false);
      expect(await revocations.prune()).toBeGreaterThan(0);
      // Resuming before what was pruned, or beyond the log's end, is a reset with the full list;
      // resuming at the end is not.
      expect((await revocations.since('1')).reset).toBe(true);
      expect((await revocations.since(String(BigInt(before.through) + 1n))).reset).toBe(true);
      expect((await revocations.since('not a position')).reset).toBe(true);
      expect((await revocations.since(before.through)).reset).toBe(false);
      expect((await revocations.since()).reset).toBe(false);
    } finally {
      clock.now = real;
    }
    const behind = await follow(service.url, await serviceToken(), '1');
    try {
      await behind.until(() => behind.types.includes('ready'));
      expect(behind.types[0]).toBe('reset');
      expect(behind.readyId()).toBe(before.through);
    } finally {
      await behind.close();
    }
  });

  it('keeps a revocation while a token issued before ACCESS_TOKEN_TTL was lowered can live', async () => {
    // An instance still running with a longer lifetime (or the one before a restart) issues a
    // token; the one with the lowered lifetime revokes its session.
    const longer = await createTestApplication(AppModule, authServiceConfig, {
      CLIENT_SECRETS: `resource-service=${SECRET}`,
      KEY_ENCRYPTION_KEY,
      DATABASE_URL: service.databaseUrl,
      ACCESS_TOKEN_TTL: '3600',
    });
    const account = { email: 'longer@example.com', password: 'a long passphrase, longer' };
    let tokens: { access_token: string; refresh_token: string };
    try {
      await fetch(`${longer.url}/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(account),
      });
      const login = await fetch(`${longer.url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(account),
      });
      tokens = (await login.json()) as typeof tokens;
    } finally {
      await longer.close();
    }
    const claims = JSON.parse(
      Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString(),
    );
    expect(claims.exp - claims.iat).toBe(3600);
    await post('/auth/logout', { refresh_token: tokens.refresh_token });
    const event = (await service.app.get(RevocationsService).since()).events.find(
      (candidate) => candidate.sid === claims.sid,
    );
    expect(event?.exp_by).toBeGreaterThanOrEqual(claims.exp + 60);
  });
});
