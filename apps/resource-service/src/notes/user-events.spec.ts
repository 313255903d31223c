import { EVENTS_STREAM, ensureEventsStream, eventSubject } from '@tessera/auth-client';
import { TestIssuer } from '@tessera/auth-testing';
import { createTestApplication, NatsTestServer } from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import { connect } from 'nats';
import type { NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { AppModule } from '../app.module';
import { resourceServiceConfig } from '../config/resource-service.config';

/**
 * auth-service's `user.disabled` reaches notes through the events stream (a real nats-server
 * with JetStream; the events published here as auth-service publishes them): the user's notes
 * are hidden, and a resource-service restarted while events flow resumes from its durable
 * consumer's last acknowledged event and misses none.
 */
describe('user.disabled, from the events stream', () => {
  let nats: NatsTestServer;
  let broker: NatsConnection;
  let issuer: TestIssuer;
  let service: TestApplication;
  let database: Client;
  let published = 0;

  const start = (databaseUrl?: string) =>
    createTestApplication(AppModule, resourceServiceConfig, {
      AUTH_ISSUER: issuer.issuer,
      NATS_URL: nats.url,
      ...(databaseUrl && { DATABASE_URL: databaseUrl }),
    });
  const tokenOf = (sub: string) => issuer.accessToken({ sub, scope: 'notes:read notes:write' });
  const writeNote = async (owner: string) => {
    const response = await fetch(`${service.url}/notes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenOf(owner)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: `a note of ${owner}` }),
    });
    expect(response.status).toBe(201);
  };
  const visibleNotes = async (owner: string) => {
    const response = await fetch(`${service.url}/notes`, {
      headers: { authorization: `Bearer ${tokenOf(owner)}` },
    });
    return ((await response.json()) as { items: unknown[] }).items.length;
  };
  const disable = async (userId: string) => {
    published += 1;
    await broker
      .jetstream()
      .publish(
        eventSubject('user.disabled'),
        JSON.stringify({ user_id: userId, disabled_at: Math.floor(Date.now() / 1000) }),
        { msgID: `test-${published}` },
      );
  };
  /** Owners among `owners` whose notes are not all hidden yet. */
  const stillVisible = async (owners: string[]) => {
    const { rows } = await database.query<{ owner: string }>(
      `SELECT DISTINCT owner_subject AS owner FROM notes
        WHERE hidden_at IS NULL AND owner_subject = ANY($1)`,
      [owners],
    );
    return rows.map((row) => row.owner);
  };
  const waitUntil = async (done: () => Promise<boolean>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return true;
  };

  beforeAll(async () => {
    [nats, issuer] = await Promise.all([
      NatsTestServer.start(),
      TestIssuer.start({ audience: 'resource-service' }),
    ]);
    broker = await connect({ servers: nats.url });
    await ensureEventsStream(await broker.jetstreamManager());
    service = await start();
    database = new Client({ connectionString: service.databaseUrl });
    await database.connect();
  }, 120_000);

  afterAll(async () => {
    await database?.end();
    await service?.close();
    await broker?.close();
    await Promise.all([nats?.stop(), issuer?.stop()]);
  });

  it('hides the disabled user’s notes, and no one else’s', async () => {
    const [disabled, other] = [randomUUID(), randomUUID()];
    await Promise.all([writeNote(disabled), writeNote(other)]);
    expect(await visibleNotes(disabled)).toBe(1);

    await disable(disabled);

    expect(await waitUntil(async () => (await visibleNotes(disabled)) === 0, 10_000)).toBe(true);
    expect(await visibleNotes(other)).toBe(1);
  });

  it('skips an event without a user id, and handles the next one', async () => {
    const user = randomUUID();
    await writeNote(user);
    await broker
      .jetstream()
      .publish(eventSubject('user.disabled'), JSON.stringify({ user_id: 42 }), { msgID: 'bad' });
    await disable(user);
    expect(await waitUntil(async () => (await stillVisible([user])).length === 0, 10_000)).toBe(
      true,
    );
  });

  it('misses no event while it restarts: its durable consumer resumes after the last it acknowledged, not from the start', async () => {
    const owners = Array.from({ length: 24 }, () => randomUUID());
    for (const owner of owners) await writeNote(owner);

    // Events keep coming while the service stops and starts again on the same database.
    const publishing = (async () => {
      for (const owner of owners) {
        await disable(owner);
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
    })();
    await waitUntil(async () => (await stillVisible(owners)).length < owners.length - 3, 10_000);
    await service.close();
    const visible = await stillVisible(owners);
    const handled = owners.filter((owner) => !visible.includes(owner));
    expect(handled.length).toBeGreaterThan(0);
    expect(handled.length).toBeLessThan(owners.length);
    // While it is down, a new note of an owner whose event it has handled: a consumer that read
    // the stream again from its start would hide this one too.
    const {
      rows: [canary],
    } = await database.query<{ id: string }>(
      `INSERT INTO notes (owner_issuer, owner_subject, title) VALUES ($1, $2, 'written later')
       RETURNING id`,
      [issuer.issuer, handled[0]],
    );
    service = await start(service.databaseUrl);
    await publishing;

    const others = owners.filter((owner) => owner !== handled[0]);
    const caughtUp = async () => {
      const info = await (
        await broker.jetstreamManager()
      ).consumers.info(EVENTS_STREAM, 'resource-service');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    };
    // Up to the consumer's ack wait (30 s): an event whose handler the stop cut short is
    // delivered again only then.
    expect(
      await waitUntil(
        async () => (await stillVisible(others)).length === 0 && (await caughtUp()),
        45_000,
      ),
    ).toBe(true);
    const { rows } = await database.query<{ hidden: boolean }>(
      'SELECT hidden_at IS NOT NULL AS hidden FROM notes WHERE id = $1',
      [canary.id],
    );
    expect(rows).toEqual([{ hidden: false }]);
  }, 100_000);
});
