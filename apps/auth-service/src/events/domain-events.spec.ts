import { EVENTS_STREAM, ensureEventsStream, eventSubject } from '@tessera/auth-client';
import type { DomainEvents as Catalogue, DomainEventType } from '@tessera/auth-client';
import { NatsTestServer } from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import { connect } from 'nats';
import type { JetStreamManager, NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createFeatureTestApplication } from '../feature-test-application.spec-helper';
import { KeysModule } from '../keys/keys.module';
import { KeysService } from '../keys/keys.service';
import { User } from '../users/user.entity';
import { UsersModule } from '../users/users.module';
import { UsersService } from '../users/users.service';
import { DomainEvents } from './domain-events';
import { EventsModule } from './events.module';

/**
 * Domain events through the transactional outbox to a real nats-server with JetStream: what a
 * committed transaction records is published, once, even when the broker was down at the time;
 * what a rolled-back one recorded never is.
 */
describe('domain events, from the outbox to JetStream', () => {
  let nats: NatsTestServer;
  let broker: NatsConnection;
  let manager: JetStreamManager;
  let service: TestApplication;
  let users: UsersService;

  /** Every stored event of `type`, oldest first. */
  const published = async <T extends DomainEventType>(type: T): Promise<Catalogue[T][]> => {
    const events: Catalogue[T][] = [];
    const { state } = await manager.streams.info(EVENTS_STREAM);
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq += 1) {
      const message = await manager.streams.getMessage(EVENTS_STREAM, { seq });
      if (message.subject === eventSubject(type)) events.push(message.json<Catalogue[T]>());
    }
    return events;
  };
  const disabledIds = async () => (await published('user.disabled')).map((event) => event.user_id);
  const waitFor = async (done: () => Promise<boolean>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    // The test's own connection may be reconnecting after a broker restart: ask again.
    while (!(await done().catch(() => false))) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const newUser = async () =>
    (
      await service.app
        .get(DataSource)
        .getRepository(User)
        .save({ email: `${randomUUID()}@example.com`, passwordHash: 'not a hash' })
    ).id;

  beforeAll(async () => {
    nats = await NatsTestServer.start();
    broker = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    manager = await broker.jetstreamManager();
    await ensureEventsStream(manager);
    service = await createFeatureTestApplication(
      { imports: [UsersModule, KeysModule, EventsModule] },
      { NATS_URL: nats.url },
    );
    users = service.app.get(UsersService);
  }, 120_000);

  afterAll(async () => {
    await service?.close();
    await broker?.close();
    await nats?.stop();
  });

  it('publishes user.disabled once its transaction has committed', async () => {
    const user = await newUser();
    await users.disable(user);
    await waitFor(async () => (await disabledIds()).includes(user), 10_000);
  });

  it('publishes user.registered in the registration’s transaction, and nothing for a taken email', async () => {
    const email = `${randomUUID()}@example.com`;
    const user = await users.register(email, 'a long enough passphrase');
    await expect(users.register(email, 'another long passphrase')).rejects.toThrow();
    await waitFor(
      async () => (await published('user.registered')).some((event) => event.user_id === user.id),
      10_000,
    );
    expect(
      (await published('user.registered')).filter((event) => event.user_id === user.id),
    ).toHaveLength(1);
  });

  it('publishes signing-key.rotated with the new key', async () => {
    const next = await service.app.get(KeysService).rotate();
    await waitFor(
      async () => (await published('signing-key.rotated')).some((event) => event.kid === next.kid),
      10_000,
    );
  });

  it('never publishes what a rolled-back transaction recorded', async () => {
    const [rolledBack, committed] = [randomUUID(), await newUser()];
    await expect(
      service.app.get(DataSource).transaction(async (transaction) => {
        await service.app.get(DomainEvents).record(transaction, 'user.disabled', {
          user_id: rolledBack,
          disabled_at: 0,
        });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await users.disable(committed);
    // Events go out in commit order: once the later one is there, the earlier one never will be.
    await waitFor(async () => (await disabledIds()).includes(committed), 10_000);
    expect(await disabledIds()).not.toContain(rolledBack);
  });

  it('keeps what is committed while the broker is down, and publishes it once when it is back', async () => {
    const user = await newUser();
    await nats.kill();
    await users.disable(user);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await nats.start();
    await waitFor(async () => (await disabledIds()).includes(user), 30_000);
    expect((await disabledIds()).filter((id) => id === user)).toHaveLength(1);
  }, 60_000);
});
