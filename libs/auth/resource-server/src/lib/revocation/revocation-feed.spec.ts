import { Logger } from '@nestjs/common';
import type { Principal } from '@tessera/auth-token';
import { randomBytes } from 'node:crypto';
import { TestIssuer } from '@tessera/auth-testing';
import { createGuardTestApplication, get } from '../guard-test-application.spec-helper';
import type { GuardTestApplication } from '../guard-test-application.spec-helper';
import { ServiceTokenProvider } from '@tessera/auth-client';
import { RevocationFeed } from '@tessera/auth-client';
import { RevocationList } from './revocation-list';

/** Polls until `condition` holds; resolves with the milliseconds it took. */
async function within(ms: number, condition: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - started;
}

describe('the revocation feed, followed by the guard', () => {
  const secret = randomBytes(32).toString('base64url');
  let issuer: TestIssuer;
  let service: GuardTestApplication;
  let feed: RevocationFeed;

  const status = async (token: string) => (await get(service.url, '/me', `Bearer ${token}`)).status;

  beforeAll(async () => {
    issuer = await TestIssuer.start({
      audience: 'guarded-service',
      clients: { 'guarded-service': secret },
    });
    service = await createGuardTestApplication(
      issuer.moduleOptions({
        client: { id: 'guarded-service', secret },
        revocationsUri: `${issuer.issuer}/revocations`,
      }),
    );
    feed = service.app.get(RevocationFeed);
    await feed.ready();
  });
  afterAll(async () => {
    await service.close();
    await issuer.stop();
  });

  it('refuses a revoked session’s token within a second, cached or not, and nobody else’s', async () => {
    const sid = 'session-a';
    const revoked = issuer.accessToken({ sid, sub: 'ada' });
    const other = issuer.accessToken({ sid: 'session-b', sub: 'ada' });
    expect(await status(revoked)).toBe(200);
    issuer.announceRevocation({ sids: [sid], sub: 'ada' });
    const took = await within(1000, async () => (await status(revoked)) === 401);
    expect(took).toBeLessThan(1000);
    const answer = await get(service.url, '/me', `Bearer ${revoked}`);
    expect(answer.challenge).toBe('Bearer error="invalid_token"');
    expect(await status(other)).toBe(200);
    expect(await status(issuer.accessToken({ sid, sub: 'ada' }))).toBe(401);
  });

  it('refuses, after a user-wide revocation, the user’s tokens issued before it, and accepts later ones', async () => {
    const now = Math.floor(Date.now() / 1000);
    const earlier = issuer.accessToken({ sub: 'bob', iat: now - 5 });
    expect(await status(earlier)).toBe(200);
    issuer.announceRevocation({ user: 'bob' });
    await within(1000, async () => (await status(earlier)) === 401);
    expect(await status(issuer.accessToken({ sub: 'bob', iat: now + 1 }))).toBe(200);
    expect(await status(issuer.accessToken({ sub: 'carol', iat: now - 5 }))).toBe(200);
  });

  it('resumes after the connection drops and learns every revocation announced meanwhile', async () => {
    const tokens = ['drop-1', 'drop-2', 'drop-3'].map((sid) => issuer.accessToken({ sid }));
    for (const token of tokens) expect(await status(token)).toBe(200);
    issuer.available = false;
    issuer.dropRevocationStreams();
    await within(2000, async () => feed.state === 'down');
    issuer.announceRevocation({ sids: ['drop-1', 'drop-2', 'drop-3'] });
    // Down: the feed cannot know yet; the tokens still verify.
    expect(await status(tokens[0])).toBe(200);
    issuer.available = true;
    await within(6000, async () => feed.state === 'live');
    for (const token of tokens) expect(await status(token)).toBe(401);
  });

  it('after a reset by a replaced log, resumes from the position that log gave it', async () => {
    // The feed is at a position of the old log; the new one resets it and says where it is (0).
    const old = issuer.accessToken({ sid: 'old-log' });
    issuer.announceRevocation({ sids: ['old-log'] });
    await within(1000, async () => (await status(old)) === 401);
    const before = issuer.requests;
    issuer.replaceRevocationLog();
    await within(3000, async () => feed.state === 'live' && issuer.requests > before);
    // The new log grows past the old position while the feed reconnects: resuming from that
    // position would skip the new log's first events.
    const reconnects = issuer.requests;
    issuer.dropRevocationStreams();
    const sids = Array.from({ length: 30 }, (_, index) => `replaced-${index}`);
    issuer.announceRevocation({ sids });
    await within(3000, async () => feed.state === 'live' && issuer.requests > reconnects);
    for (const sid of [sids[0], sids[29]])
      expect(await status(issuer.accessToken({ sid }))).toBe(401);
  });
});

describe('the revocation feed on a quiet connection', () => {
  const secret = randomBytes(32).toString('base64url');
  let issuer: TestIssuer;

  beforeAll(async () => {
    issuer = await TestIssuer.start({ clients: { 'quiet-service': secret } });
  });
  afterAll(() => issuer.stop());

  const followQuietly = (idleTimeoutMs: number) => {
    const serviceToken = new ServiceTokenProvider({
      client: {
        id: 'quiet-service',
        secret,
        tokenUri: `${issuer.issuer}/oauth/token`,
        introspectionUri: `${issuer.issuer}/oauth/introspect`,
        scope: 'revocations:read',
      },
      timeoutMs: 3000,
    });
    const feed = new RevocationFeed(
      { uri: `${issuer.issuer}/revocations`, idleTimeoutMs },
      new RevocationList(),
      serviceToken,
    );
    feed.start();
    return feed;
  };

  it('gives up a connection that sends nothing for idleTimeoutMs, and connects again', async () => {
    const feed = followQuietly(300);
    await feed.ready();
    const before = issuer.requests;
    const warn = jest.spyOn(Logger.prototype, 'warn');
    await within(3000, async () => feed.state === 'down');
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('is down (no byte for 0.3 s)'));
    warn.mockRestore();
    await within(3000, async () => feed.state === 'live' && issuer.requests > before);
    await feed.stop();
  });

  it('stops at once while its stream is open and quiet', async () => {
    const feed = followQuietly(45_000);
    await feed.ready();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await feed.stop();
    expect(Date.now() - started).toBeLessThan(500);
    expect(feed.state).toBe('stopped');
  });
});

describe('RevocationList', () => {
  const principal = (sessionId: string | undefined, subject = 'ada'): Principal => ({
    subject,
    issuer: 'i',
    clientId: 'web',
    audiences: ['a'],
    scopes: [],
    roles: [],
    sessionId,
    kind: 'user',
    issuedAt: now(),
    expiresAt: now() + 900,
    authTime: undefined,
    acr: undefined,
    amr: [],
    emailVerified: false,
  });
  const now = () => Math.floor(Date.now() / 1000);

  it('keeps an entry only while a token it covers can still be valid', () => {
    const list = new RevocationList();
    list.add([
      {
        id: '1',
        kind: 'session',
        sub: 'ada',
        sid: 'gone',
        revoked_at: now() - 1000,
        exp_by: now() - 1,
      },
      { id: '2', kind: 'session', sub: 'ada', sid: 'live', revoked_at: now(), exp_by: now() + 900 },
    ]);
    expect(list.size).toBe(1);
    expect(list.isRevoked(principal('gone'))).toBe(false);
    expect(list.isRevoked(principal('live'))).toBe(true);
    list.prune(Date.now() + 901_000);
    expect(list.size).toBe(0);
  });

  it('holds 100,000 revoked sessions and still answers each lookup exactly', () => {
    const list = new RevocationList();
    const events = Array.from({ length: 100_000 }, (_, index) => ({
      id: String(index),
      kind: 'session' as const,
      sub: `user-${index}`,
      sid: `session-${index}`,
      revoked_at: now(),
      exp_by: now() + 900,
    }));
    list.add(events);
    expect(list.size).toBe(100_000);
    expect(list.isRevoked(principal('session-99999'))).toBe(true);
    expect(list.isRevoked(principal('session-100000'))).toBe(false);
  });
});
