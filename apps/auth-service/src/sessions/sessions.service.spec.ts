import { Metrics } from '@tessera/platform';
import type { TestApplication } from '@tessera/platform-testing';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  controlClock,
  createFeatureTestApplication,
} from '../feature-test-application.spec-helper';
import { User } from '../users/user.entity';
import { InvalidGrantError } from './invalid-grant.error';
import type { InvalidGrantReason } from './invalid-grant.error';
import { SessionsPruner } from './sessions-pruner.service';
import { SessionsModule } from './sessions.module';
import { SessionsService, UserDisabledError } from './sessions.service';

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const GRACE = 10;
const WEB = 'web';
const NOTES = 'resource-service';
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Resolves to the InvalidGrantError `promise` rejects with; fails the test on anything else. */
async function refusal(promise: Promise<unknown>): Promise<InvalidGrantError> {
  const error: unknown = await promise.then(
    () => new Error('expected an InvalidGrantError, but the call succeeded'),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(InvalidGrantError);
  return error as InvalidGrantError;
}

async function reasonOf(promise: Promise<unknown>): Promise<InvalidGrantReason> {
  return (await refusal(promise)).reason;
}

/** A running SessionsService with a clock that stands still until advanced, and a user factory. */
async function startHarness(environment: Record<string, string>) {
  const service = await createFeatureTestApplication({ imports: [SessionsModule] }, environment);
  const dataSource = service.app.get(DataSource);
  let users = 0;
  return {
    service,
    dataSource,
    sessions: service.app.get(SessionsService),
    clock: controlClock(service),
    async newUser(): Promise<string> {
      users += 1;
      const repository = dataSource.getRepository(User);
      const user = await repository.save(
        repository.create({ email: `user${users}@example.com`, passwordHash: 'x' }),
      );
      return user.id;
    },
  };
}

type Harness = Awaited<ReturnType<typeof startHarness>>;

describe('SessionsService on real PostgreSQL', () => {
  let harness: Harness;
  let service: TestApplication;
  let sessions: SessionsService;

  beforeAll(async () => {
    harness = await startHarness({
      REFRESH_REUSE_GRACE: String(GRACE),
      SESSION_IDLE_TTL: String(HOUR),
      SESSION_ABSOLUTE_TTL: String(DAY),
    });
    ({ service, sessions } = harness);
  });
  afterAll(() => service.close());

  async function login(clientId = WEB) {
    return sessions.start({
      userId: await harness.newUser(),
      clientId,
      scope: 'openid notes:read',
      audiences: [NOTES],
      userAgent: 'Firefox/140',
      clientAddress: '203.0.113.7',
    });
  }

  describe('starting a session', () => {
    it('issues an opaque 43-character base64url token and stores only its SHA-256', async () => {
      const { session, refreshToken } = await login();
      expect(refreshToken).toMatch(TOKEN);
      expect(Buffer.from(refreshToken, 'base64url')).toHaveLength(32);
      const rows: { token_hash: Buffer }[] = await harness.dataSource.query(
        'SELECT token_hash FROM refresh_tokens WHERE session_id = $1',
        [session.id],
      );
      expect(rows).toEqual([{ token_hash: createHash('sha256').update(refreshToken).digest() }]);
    });

    it('starts a fresh session with fresh tokens on every login, even for the same user', async () => {
      const userId = await harness.newUser();
      const input = { userId, clientId: WEB, scope: 'openid', audiences: [NOTES] };
      const first = await sessions.start(input);
      const second = await sessions.start(input);
      expect(second.session.id).not.toBe(first.session.id);
      expect(second.refreshToken).not.toBe(first.refreshToken);
    });

    it('expires after SESSION_IDLE_TTL of inactivity and SESSION_ABSOLUTE_TTL at most', async () => {
      const { session } = await login();
      const now = harness.clock.now().getTime();
      expect(session).toMatchObject({
        clientId: WEB,
        scope: 'openid notes:read',
        audiences: [NOTES],
        createdAt: new Date(now),
        lastUsedAt: new Date(now),
        idleExpiresAt: new Date(now + HOUR * 1000),
        absoluteExpiresAt: new Date(now + DAY * 1000),
        revokedAt: null,
      });
    });

    it('keeps at most MAX_SESSIONS_PER_USER (50) live: a new sign-in ends the one used longest ago, announced', async () => {
      const userId = await harness.newUser();
      const input = { userId, clientId: WEB, scope: 'openid', audiences: [NOTES] };
      const started = [];
      for (let index = 0; index < 50; index += 1) {
        harness.clock.advance(1);
        started.push(await sessions.start(input));
      }
      expect(started.every((each) => each.ended.length === 0)).toBe(true);
      // The oldest sign-in is still in use; the second oldest is the one used longest ago.
      harness.clock.advance(1);
      const kept = await sessions.rotate(started[0].refreshToken, { clientId: WEB });
      harness.clock.advance(1);

      const newest = await sessions.start(input);

      const victim = started[1].session.id;
      expect(newest.ended.map((session) => session.id)).toEqual([victim]);
      const live = await sessions.listForUser(userId);
      expect(live).toHaveLength(50);
      expect(live.map((session) => session.id)).toEqual(
        expect.arrayContaining([newest.session.id, started[0].session.id]),
      );
      expect(live.map((session) => session.id)).not.toContain(victim);
      expect(await reasonOf(sessions.rotate(started[1].refreshToken, { clientId: WEB }))).toBe(
        'session_revoked',
      );
      // Announced as every revocation is, so resource services refuse its access tokens.
      const announced: unknown[] = await harness.dataSource.query(
        `SELECT 1 FROM revocations WHERE kind = 'session' AND session_id = $1`,
        [victim],
      );
      expect(announced).toHaveLength(1);
      await expect(sessions.rotate(kept.refreshToken, { clientId: WEB })).resolves.toBeDefined();
    });

    it('refuses to start a session for a disabled user', async () => {
      const userId = await harness.newUser();
      await harness.dataSource.query('UPDATE users SET disabled_at = now() WHERE id = $1', [
        userId,
      ]);
      await expect(
        sessions.start({ userId, clientId: WEB, scope: 'openid', audiences: [NOTES] }),
      ).rejects.toThrow(UserDisabledError);
      expect(await sessions.listForUser(userId)).toEqual([]);
    });

    it('waits for a disable in flight, then refuses: no session starts behind its back', async () => {
      const userId = await harness.newUser();
      const admin = harness.dataSource.createQueryRunner();
      await admin.connect();
      try {
        await admin.startTransaction();
        await admin.query('UPDATE users SET disabled_at = now() WHERE id = $1', [userId]);
        let settled = false;
        const start = sessions.start({
          userId,
          clientId: WEB,
          scope: 'openid',
          audiences: [NOTES],
        });
        start.then(
          () => (settled = true),
          () => (settled = true),
        );
        // The disable has not committed: a session must neither start nor be refused yet, or
        // the disable's "end every session" that follows its commit could miss it.
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(settled).toBe(false);
        await admin.commitTransaction();
        await expect(start).rejects.toThrow(UserDisabledError);
        expect(await sessions.listForUser(userId)).toEqual([]);
      } finally {
        if (admin.isTransactionActive) await admin.rollbackTransaction();
        await admin.release();
      }
    });
  });

  describe('rotating a refresh token', () => {
    it('returns a new refresh token and spends the old one', async () => {
      const { session, refreshToken } = await login();
      const next = await sessions.rotate(refreshToken, { clientId: WEB });
      expect(next.refreshToken).toMatch(TOKEN);
      expect(next.refreshToken).not.toBe(refreshToken);
      expect(next.session.id).toBe(session.id);

      const rows: { used: boolean }[] = await harness.dataSource.query(
        'SELECT used_at IS NOT NULL AS used FROM refresh_tokens WHERE session_id = $1 ORDER BY created_at, parent_id NULLS FIRST',
        [session.id],
      );
      expect(rows).toEqual([{ used: true }, { used: false }]);
      await expect(sessions.rotate(next.refreshToken, { clientId: WEB })).resolves.toMatchObject({
        refreshToken: expect.stringMatching(TOKEN),
      });
    });

    it('keeps no refresh token in plaintext anywhere in the database', async () => {
      const { refreshToken } = await login();
      const next = await sessions.rotate(refreshToken, { clientId: WEB });
      const [dump]: { text: string }[] = await harness.dataSource.query(
        `SELECT (SELECT json_agg(s)::text FROM sessions s) || (SELECT json_agg(t)::text FROM refresh_tokens t) AS text`,
      );
      expect(dump.text).not.toContain(refreshToken);
      expect(dump.text).not.toContain(next.refreshToken);
    });

    it('records the use and slides the idle expiry forward', async () => {
      const { refreshToken } = await login();
      harness.clock.advance(50 * MINUTE);
      const { session } = await sessions.rotate(refreshToken, { clientId: WEB });
      const now = harness.clock.now().getTime();
      expect(session.lastUsedAt).toEqual(new Date(now));
      expect(session.idleExpiresAt).toEqual(new Date(now + HOUR * 1000));
    });

    it.each([
      ['a token with a flipped character', 'flipped', 'unknown_token'],
      ['an unknown token', 'A'.repeat(43), 'unknown_token'],
      ['an empty token', '', 'malformed'],
      ['a token one character short', 'short', 'malformed'],
      ['a huge token', 'A'.repeat(100_000), 'malformed'],
    ])('refuses %s', async (_name, value, reason) => {
      const { refreshToken } = await login();
      const token =
        value === 'flipped'
          ? refreshToken.slice(0, 42) + (refreshToken[42] === 'A' ? 'B' : 'A')
          : value === 'short'
            ? refreshToken.slice(1)
            : value;
      expect(await reasonOf(sessions.rotate(token, { clientId: WEB }))).toBe(reason);
    });

    it("refuses another client's token and leaves its session and token untouched", async () => {
      const { session, refreshToken } = await login();
      const error = await refusal(sessions.rotate(refreshToken, { clientId: 'mobile' }));
      expect(error.reason).toBe('client_mismatch');
      await expect(sessions.findActive(session.id)).resolves.toMatchObject({ id: session.id });
      await expect(sessions.rotate(refreshToken, { clientId: WEB })).resolves.toMatchObject({
        session: { id: session.id },
      });
    });

    it('refuses every token of a revoked session', async () => {
      const { session, refreshToken } = await login();
      await sessions.revoke(session.id, 'logout');
      expect(await reasonOf(sessions.rotate(refreshToken, { clientId: WEB }))).toBe(
        'session_revoked',
      );
    });

    it('accepts an explicit `now` instead of the clock', async () => {
      const { refreshToken } = await login();
      const later = new Date(harness.clock.now().getTime() + 2 * HOUR * 1000);
      expect(await reasonOf(sessions.rotate(refreshToken, { clientId: WEB, now: later }))).toBe(
        'session_expired',
      );
    });
  });

  describe('renewing a session (after a password change)', () => {
    it('replaces every refresh token of the session with a fresh one; a stale one is refused and ends nothing', async () => {
      const { session, refreshToken } = await login();
      const rotated = await sessions.rotate(refreshToken, { clientId: WEB });
      harness.clock.advance(GRACE + 1);
      const renewed = await sessions.renew(session.id);
      expect(renewed).toMatchObject({
        session: { id: session.id, scope: session.scope, audiences: session.audiences },
        refreshToken: expect.stringMatching(TOKEN),
      });
      for (const stale of [refreshToken, rotated.refreshToken]) {
        expect(await reasonOf(sessions.rotate(stale, { clientId: WEB }))).toBe('unknown_token');
      }
      await expect(sessions.findActive(session.id)).resolves.toMatchObject({ revokedAt: null });
      await expect(
        sessions.rotate(renewed?.refreshToken ?? '', { clientId: WEB }),
      ).resolves.toMatchObject({ session: { id: session.id } });
    });

    it('renews nothing of a revoked session', async () => {
      const { session, refreshToken } = await login();
      await sessions.revoke(session.id, 'logout');
      expect(await sessions.renew(session.id)).toBeNull();
      expect(await reasonOf(sessions.rotate(refreshToken, { clientId: WEB }))).toBe(
        'session_revoked',
      );
    });
  });

  describe('pruning', () => {
    it('deletes sessions a week after they ended, with their tokens, and keeps the live ones', async () => {
      const ended = await login();
      await sessions.revoke(ended.session.id, 'logout');
      const tokensOf = (sessionId: string) =>
        harness.dataSource.query('SELECT 1 FROM refresh_tokens WHERE session_id = $1', [sessionId]);
      const pruner = service.app.get(SessionsPruner);

      harness.clock.advance(6 * DAY);
      await pruner.prune();
      expect(await tokensOf(ended.session.id)).toHaveLength(1);

      harness.clock.advance(2 * DAY);
      expect(await pruner.prune()).toBeGreaterThanOrEqual(1);
      expect(await tokensOf(ended.session.id)).toHaveLength(0);
      expect(await sessions.listForUser(ended.session.userId)).toEqual([]);
      const live = await login();
      await pruner.prune();
      expect(await sessions.findActive(live.session.id)).not.toBeNull();
    });
  });

  describe('expiry', () => {
    it('refuses a token once the session has been idle for SESSION_IDLE_TTL', async () => {
      const { refreshToken } = await login();
      harness.clock.advance(HOUR);
      expect(await reasonOf(sessions.rotate(refreshToken, { clientId: WEB }))).toBe(
        'session_expired',
      );
    });

    it('keeps a session in use alive past the idle TTL, but never past SESSION_ABSOLUTE_TTL', async () => {
      const started = await login();
      const absoluteExpiresAt = started.session.absoluteExpiresAt;
      let { refreshToken, session } = started;
      while (harness.clock.now().getTime() + HOUR * 1000 < absoluteExpiresAt.getTime()) {
        harness.clock.advance(50 * MINUTE);
        ({ refreshToken, session } = await sessions.rotate(refreshToken, { clientId: WEB }));
      }
      expect(session.idleExpiresAt).toEqual(absoluteExpiresAt);

      harness.clock.advance((absoluteExpiresAt.getTime() - harness.clock.now().getTime()) / 1000);
      expect(await reasonOf(sessions.rotate(refreshToken, { clientId: WEB }))).toBe(
        'session_expired',
      );
    });
  });

  describe('reuse and the grace window', () => {
    it('answers a retry inside the grace window with exactly the same successor', async () => {
      const { session, refreshToken } = await login();
      const first = await sessions.rotate(refreshToken, { clientId: WEB });
      harness.clock.advance(GRACE - 1);
      const retry = await sessions.rotate(refreshToken, { clientId: WEB });
      expect(retry.refreshToken).toBe(first.refreshToken);
      expect(retry.session.id).toBe(session.id);
      await expect(sessions.rotate(retry.refreshToken, { clientId: WEB })).resolves.toMatchObject({
        session: { id: session.id },
      });
    });

    it('revokes the session when a spent token comes back after the grace window; its successor stops working, other sessions go on', async () => {
      const userId = await harness.newUser();
      const stolen = await sessions.start({
        userId,
        clientId: WEB,
        scope: 'openid',
        audiences: [NOTES],
      });
      const other = await sessions.start({
        userId,
        clientId: WEB,
        scope: 'openid',
        audiences: [NOTES],
      });
      const successor = await sessions.rotate(stolen.refreshToken, { clientId: WEB });
      harness.clock.advance(GRACE);

      const error = await refusal(sessions.rotate(stolen.refreshToken, { clientId: WEB }));
      expect(error.reason).toBe('reuse_detected');
      expect(error.session).toEqual({ userId, sessionId: stolen.session.id });
      expect(error.message).not.toContain(stolen.refreshToken);

      expect(await reasonOf(sessions.rotate(successor.refreshToken, { clientId: WEB }))).toBe(
        'session_revoked',
      );
      await expect(sessions.findActive(stolen.session.id)).resolves.toBeNull();
      const [row]: { revoked_reason: string }[] = await harness.dataSource.query(
        'SELECT revoked_reason FROM sessions WHERE id = $1',
        [stolen.session.id],
      );
      expect(row.revoked_reason).toBe('reuse_detected');
      await expect(sessions.rotate(other.refreshToken, { clientId: WEB })).resolves.toMatchObject({
        session: { id: other.session.id },
      });
    });

    it('treats a retry as reuse once its successor has been used, even inside the grace window', async () => {
      const a = await login();
      const b = await sessions.rotate(a.refreshToken, { clientId: WEB });
      const c = await sessions.rotate(b.refreshToken, { clientId: WEB });
      expect(await reasonOf(sessions.rotate(a.refreshToken, { clientId: WEB }))).toBe(
        'reuse_detected',
      );
      expect(await reasonOf(sessions.rotate(c.refreshToken, { clientId: WEB }))).toBe(
        'session_revoked',
      );
    });

    it('gives 20 concurrent rotations of one token one successor, leaving one live token', async () => {
      const { session, refreshToken } = await login();
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => sessions.rotate(refreshToken, { clientId: WEB })),
      );
      const successors = new Set(
        results.flatMap((result) =>
          result.status === 'fulfilled' ? [result.value.refreshToken] : [],
        ),
      );
      expect(successors.size).toBe(1);
      expect(results.filter((result) => result.status === 'fulfilled').length).toBe(20);
      await expectLiveTokens(harness, session.id, 1);
      const [successor] = [...successors];
      await expect(sessions.rotate(successor, { clientId: WEB })).resolves.toMatchObject({
        session: { id: session.id },
      });
    });
  });

  describe('revocation', () => {
    it('revokes by refresh token idempotently: the second logout succeeds and reports nothing new', async () => {
      const { session, refreshToken } = await login();
      await expect(sessions.revokeByRefreshToken(refreshToken, 'logout')).resolves.toMatchObject({
        id: session.id,
        revokedReason: 'logout',
      });
      await expect(sessions.revokeByRefreshToken(refreshToken, 'logout')).resolves.toBeNull();
      expect(await reasonOf(sessions.rotate(refreshToken, { clientId: WEB }))).toBe(
        'session_revoked',
      );
    });

    it('ends the whole session when revoked by an already spent token', async () => {
      const { session, refreshToken } = await login();
      const next = await sessions.rotate(refreshToken, { clientId: WEB });
      await sessions.revokeByRefreshToken(refreshToken, 'revoked');
      await expect(sessions.findActive(session.id)).resolves.toBeNull();
      expect(await reasonOf(sessions.rotate(next.refreshToken, { clientId: WEB }))).toBe(
        'session_revoked',
      );
    });

    it("leaves another client's session alone when the revoking client is named", async () => {
      const { session, refreshToken } = await login();
      await expect(
        sessions.revokeByRefreshToken(refreshToken, 'revoked', { clientId: 'mobile' }),
      ).resolves.toBeNull();
      await expect(sessions.findActive(session.id)).resolves.toMatchObject({ id: session.id });
    });

    it('takes unknown, malformed or empty tokens without error', async () => {
      await expect(sessions.revokeByRefreshToken('A'.repeat(43), 'logout')).resolves.toBeNull();
      await expect(sessions.revokeByRefreshToken('not a token', 'logout')).resolves.toBeNull();
      await expect(sessions.revokeByRefreshToken('', 'logout')).resolves.toBeNull();
    });

    it('revokes a session by id once, and a second revoke is a no-op', async () => {
      const { session } = await login();
      await expect(sessions.revoke(session.id, 'admin')).resolves.toMatchObject({
        revokedReason: 'admin',
      });
      await expect(sessions.revoke(session.id, 'logout')).resolves.toBeNull();
      await expect(sessions.revoke('not-a-uuid', 'logout')).resolves.toBeNull();
    });

    it("revokes every session of a user but the one kept, and no other user's", async () => {
      const userId = await harness.newUser();
      const [kept, second, third] = await Promise.all(
        [1, 2, 3].map(() =>
          sessions.start({ userId, clientId: WEB, scope: 'openid', audiences: [NOTES] }),
        ),
      );
      const stranger = await login();

      await expect(
        sessions.revokeAllForUser(userId, 'password_changed', { exceptSessionId: kept.session.id }),
      ).resolves.toBe(2);

      for (const ended of [second, third]) {
        expect(await reasonOf(sessions.rotate(ended.refreshToken, { clientId: WEB }))).toBe(
          'session_revoked',
        );
      }
      await expect(sessions.rotate(kept.refreshToken, { clientId: WEB })).resolves.toMatchObject({
        session: { id: kept.session.id },
      });
      await expect(sessions.findActive(stranger.session.id)).resolves.not.toBeNull();
      await expect(sessions.revokeAllForUser(userId, 'logout_all')).resolves.toBe(1);
      await expect(sessions.listForUser(userId)).resolves.toEqual([]);
    });

    it('ends every session when the user is deleted', async () => {
      const { session } = await login();
      await harness.dataSource.getRepository(User).delete({ id: session.userId });
      const [row]: { count: number }[] = await harness.dataSource.query(
        'SELECT count(*)::int AS count FROM refresh_tokens WHERE session_id = $1',
        [session.id],
      );
      expect(row.count).toBe(0);
      await expect(sessions.findActive(session.id)).resolves.toBeNull();
    });
  });

  describe('reading sessions', () => {
    it('lists only the active sessions of the user, most recently used first, without secrets', async () => {
      const userId = await harness.newUser();
      const start = (userAgent: string) =>
        sessions.start({
          userId,
          clientId: WEB,
          scope: 'openid',
          audiences: [NOTES],
          userAgent,
          clientAddress: '198.51.100.1',
        });
      const idle = await start('idle');
      harness.clock.advance(30 * MINUTE);
      const revoked = await start('revoked');
      const older = await start('older');
      harness.clock.advance(1);
      const newer = await start('newer');
      await sessions.revoke(revoked.session.id, 'logout');
      harness.clock.advance(31 * MINUTE);

      const listed = await sessions.listForUser(userId);
      expect(listed).toEqual([
        {
          id: newer.session.id,
          createdAt: newer.session.createdAt,
          lastUsedAt: newer.session.lastUsedAt,
          userAgent: 'newer',
          clientAddress: '198.51.100.1',
        },
        expect.objectContaining({ id: older.session.id, userAgent: 'older' }),
      ]);
      expect(listed.map((session) => session.id)).not.toContain(idle.session.id);
    });

    it('finds an active session by id, and nothing for a revoked, expired, unknown or malformed one', async () => {
      const { session } = await login();
      await expect(sessions.findActive(session.id)).resolves.toMatchObject({
        id: session.id,
        userId: session.userId,
      });
      const revoked = await login();
      await sessions.revoke(revoked.session.id, 'logout');
      await expect(sessions.findActive(revoked.session.id)).resolves.toBeNull();
      await expect(sessions.findActive('00000000-0000-4000-8000-000000000000')).resolves.toBeNull();
      await expect(sessions.findActive("' OR 1=1 --")).resolves.toBeNull();
      harness.clock.advance(HOUR);
      await expect(sessions.findActive(session.id)).resolves.toBeNull();
    });
  });
});

describe('SessionsService with the grace window off (REFRESH_REUSE_GRACE=0)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ REFRESH_REUSE_GRACE: '0' });
  });
  afterAll(() => harness.service.close());

  async function login() {
    return harness.sessions.start({
      userId: await harness.newUser(),
      clientId: WEB,
      scope: '',
      audiences: [NOTES],
    });
  }

  it('treats an immediate retry of a spent token as reuse and revokes the session', async () => {
    const { refreshToken } = await login();
    const next = await harness.sessions.rotate(refreshToken, { clientId: WEB });
    expect(await reasonOf(harness.sessions.rotate(refreshToken, { clientId: WEB }))).toBe(
      'reuse_detected',
    );
    expect(await reasonOf(harness.sessions.rotate(next.refreshToken, { clientId: WEB }))).toBe(
      'session_revoked',
    );
  });

  it('lets exactly one of 20 concurrent rotations succeed; the rest are reuse, reported once, and the session ends', async () => {
    const { session, refreshToken } = await login();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => harness.sessions.rotate(refreshToken, { clientId: WEB })),
    );
    const fulfilled = results.filter((result) => result.status === 'fulfilled');
    const reasons = results.flatMap((result) =>
      result.status === 'rejected' ? [(result.reason as InvalidGrantError).reason] : [],
    );
    expect(fulfilled).toHaveLength(1);
    expect(reasons.filter((reason) => reason === 'reuse_detected')).toHaveLength(1);
    expect(reasons.filter((reason) => reason === 'session_revoked')).toHaveLength(18);
    await expectLiveTokens(harness, session.id, 1);
    await expect(harness.sessions.findActive(session.id)).resolves.toBeNull();
  });
});

describe('SessionsService metrics', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ REFRESH_REUSE_GRACE: '0' });
  });
  afterAll(() => harness.service.close());

  async function counts(): Promise<Record<string, number>> {
    const exposition = await harness.service.app.get(Metrics).render();
    const series = [
      'tessera_tokens_issued_total{kind="refresh"}',
      'tessera_refresh_reuse_detected_total',
      'tessera_sessions_revoked_total{reason="reuse_detected"}',
      'tessera_sessions_revoked_total{reason="logout"}',
      'tessera_sessions_revoked_total{reason="logout_all"}',
    ];
    return Object.fromEntries(
      series.map((name) => {
        const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${name} `));
        return [name, Number(line?.slice(name.length + 1))];
      }),
    );
  }

  it('count new refresh tokens, reuse once however many race, and each session ended once', async () => {
    const userId = await harness.newUser();
    const start = () =>
      harness.sessions.start({ userId, clientId: WEB, scope: '', audiences: [NOTES] });
    const before = await counts();

    const { refreshToken } = await start();
    const rotated = await harness.sessions.rotate(refreshToken, { clientId: WEB });
    await Promise.allSettled(
      Array.from({ length: 10 }, () => harness.sessions.rotate(refreshToken, { clientId: WEB })),
    );
    const other = await start();
    await harness.sessions.revokeByRefreshToken(other.refreshToken, 'logout');
    await harness.sessions.revokeByRefreshToken(other.refreshToken, 'logout');
    await start();
    await start();
    await harness.sessions.revokeAllForUser(userId, 'logout_all');
    expect(await reasonOf(harness.sessions.rotate(rotated.refreshToken, { clientId: WEB }))).toBe(
      'session_revoked',
    );

    const after = await counts();
    const delta = Object.fromEntries(
      Object.entries(after).map(([name, value]) => [name, value - (before[name] ?? 0)]),
    );
    expect(delta).toEqual({
      // Four logins and one rotation; the refused rotations issue nothing.
      'tessera_tokens_issued_total{kind="refresh"}': 5,
      tessera_refresh_reuse_detected_total: 1,
      'tessera_sessions_revoked_total{reason="reuse_detected"}': 1,
      'tessera_sessions_revoked_total{reason="logout"}': 1,
      // The two sessions still live; the reused one and the logged-out one had ended.
      'tessera_sessions_revoked_total{reason="logout_all"}': 2,
    });
  });
});

/** Unspent refresh tokens of the session: never more than one, or there would be two chains. */
async function expectLiveTokens(harness: Harness, sessionId: string, count: number) {
  const [row]: { count: number }[] = await harness.dataSource.query(
    'SELECT count(*)::int AS count FROM refresh_tokens WHERE session_id = $1 AND used_at IS NULL',
    [sessionId],
  );
  expect(row.count).toBe(count);
}
