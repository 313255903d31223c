import { Injectable, Module } from '@nestjs/common';
import type { TestApplication } from '@tessera/platform-testing';
import { DataSource } from 'typeorm';
import { createFeatureTestApplication } from '../feature-test-application.spec-helper';
import { OutboxChannel, OutboxPermanentFailure } from './outbox-handler';
import type { OutboxDelivery, OutboxHandler } from './outbox-handler';
import { OutboxDispatcher, retryDelaySeconds } from './outbox-dispatcher.service';
import { OutboxModule } from './outbox.module';
import { OutboxService } from './outbox.service';

interface Note {
  n: number;
}

/** Takes what it is given, or fails as told: the test decides per message. */
@OutboxChannel('test.notes')
@Injectable()
class RecordingHandler implements OutboxHandler<Note> {
  readonly delivered: number[] = [];
  readonly attempts: { n: number; at: number; delivery: OutboxDelivery }[] = [];
  failing = new Set<number>();
  permanent = new Set<number>();

  async deliver(payload: Note, delivery: OutboxDelivery): Promise<void> {
    this.attempts.push({ n: payload.n, at: Date.now(), delivery });
    if (this.permanent.has(payload.n)) throw new OutboxPermanentFailure('refused for good');
    if (this.failing.has(payload.n)) throw new Error('the server is down');
    this.delivered.push(payload.n);
  }
}

@Module({ imports: [OutboxModule], providers: [RecordingHandler] })
class RecordingModule {}

describe('the transactional outbox', () => {
  let service: TestApplication;
  let dataSource: DataSource;
  let outbox: OutboxService;
  let handler: RecordingHandler;

  beforeAll(async () => {
    service = await createFeatureTestApplication({ imports: [RecordingModule] });
    dataSource = service.app.get(DataSource);
    outbox = service.app.get(OutboxService);
    handler = service.app.get(RecordingHandler);
  });
  afterAll(() => service?.close());

  beforeEach(() => {
    handler.delivered.length = 0;
    handler.attempts.length = 0;
    handler.failing.clear();
    handler.permanent.clear();
  });

  async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error('timed out waiting on the outbox');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  const pending = async () =>
    Number(
      (
        await dataSource.query<{ count: string }[]>(
          `SELECT count(*) FROM outbox_messages WHERE failed_at IS NULL`,
        )
      )[0].count,
    );

  it('delivers in commit order, not insert order, and deletes what it delivered', async () => {
    // The first transaction inserts first and commits last.
    let releaseFirst!: () => void;
    const firstMayCommit = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstInserted!: () => void;
    const inserted = new Promise<void>((resolve) => (firstInserted = resolve));
    const first = dataSource.transaction(async (manager) => {
      await outbox.enqueue(manager, 'test.notes', { n: 1 });
      firstInserted();
      await firstMayCommit;
    });
    await inserted;
    await dataSource.transaction((manager) => outbox.enqueue(manager, 'test.notes', { n: 2 }));
    await until(() => handler.delivered.length === 1);
    releaseFirst();
    await first;
    await until(() => handler.delivered.length === 2);
    expect(handler.delivered).toEqual([2, 1]);
    // Positions follow the commits, so a consumer resuming after "2" would still get "1".
    const [second, firstCommitted] = handler.attempts.map((attempt) => attempt.delivery);
    expect(BigInt(second.position)).toBeLessThan(BigInt(firstCommitted.position));
    expect(BigInt(second.id)).toBeGreaterThan(BigInt(firstCommitted.id));
    expect(await pending()).toBe(0);
  });

  it('delivers nothing a rolled-back transaction enqueued', async () => {
    await expect(
      dataSource.transaction(async (manager) => {
        await outbox.enqueue(manager, 'test.notes', { n: 3 });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    await dataSource.transaction((manager) => outbox.enqueue(manager, 'test.notes', { n: 4 }));
    await until(() => handler.delivered.length === 1);
    await service.app.get(OutboxDispatcher).idle();
    expect(handler.delivered).toEqual([4]);
  });

  it('wakes on the commit, well before the next poll', async () => {
    await service.app.get(OutboxDispatcher).idle();
    const committed = Date.now();
    await outbox.enqueue(dataSource.manager, 'test.notes', { n: 5 });
    await until(() => handler.delivered.length === 1);
    expect(handler.attempts[0].at - committed).toBeLessThan(900);
  });

  it('retries a failed message with backoff, and holds the messages behind it', async () => {
    handler.failing.add(6);
    await outbox.enqueue(dataSource.manager, 'test.notes', { n: 6 });
    await outbox.enqueue(dataSource.manager, 'test.notes', { n: 7 });
    await until(() => handler.attempts.length >= 2);
    expect(handler.delivered).toEqual([]);
    handler.failing.clear();
    await until(() => handler.delivered.length === 2);
    expect(handler.delivered).toEqual([6, 7]);
    const tries = handler.attempts.filter((attempt) => attempt.n === 6);
    expect(tries.map((attempt) => attempt.delivery.attempt)).toEqual(
      tries.map((_, index) => index + 1),
    );
    // The second attempt waited at least the first backoff (1 s, less up to a quarter).
    expect(tries[1].at - tries[0].at).toBeGreaterThanOrEqual(700);
    expect(new Set(tries.map((attempt) => attempt.delivery.id)).size).toBe(1);
  });

  it('deletes a delivered message whose deletion failed before it claims the next: the channel waits a poll, not the lease, and nothing is delivered twice', async () => {
    await service.app.get(OutboxDispatcher).idle();
    // The database fails once, right after the handler took message 10.
    const query = dataSource.query.bind(dataSource);
    let failedOnce = false;
    const spy = jest.spyOn(dataSource, 'query').mockImplementation((sql: string, ...rest) => {
      if (!failedOnce && sql.startsWith('DELETE FROM outbox_messages')) {
        failedOnce = true;
        return Promise.reject(new Error('Connection terminated unexpectedly'));
      }
      return query(sql, ...rest);
    });
    try {
      await outbox.enqueue(dataSource.manager, 'test.notes', { n: 10 });
      await outbox.enqueue(dataSource.manager, 'test.notes', { n: 11 });
      await until(() => handler.delivered.length === 2);
    } finally {
      spy.mockRestore();
    }
    expect(failedOnce).toBe(true);
    expect(handler.delivered).toEqual([10, 11]);
    // The next poll (OUTBOX_POLL_INTERVAL_MS), not the 60 s lease.
    const [ten, eleven] = handler.attempts;
    expect(eleven.at - ten.at).toBeLessThan(5_000);
    await service.app.get(OutboxDispatcher).idle();
    expect(await pending()).toBe(0);
    expect(handler.attempts.map((attempt) => attempt.n)).toEqual([10, 11]);
  });

  it('claims one message at a time: a burst committed together is delivered at once, in order, each on its first attempt', async () => {
    await service.app.get(OutboxDispatcher).idle();
    const burst = [20, 21, 22, 23, 24];
    await dataSource.transaction(async (manager) => {
      for (const n of burst) await outbox.enqueue(manager, 'test.notes', { n });
    });
    // A claim that leased the messages behind the head as well would leave them to their 60 s
    // lease: the channel would stall here.
    await until(() => handler.delivered.length === burst.length, 5_000);
    expect(handler.delivered).toEqual(burst);
    expect(handler.attempts.map((attempt) => attempt.delivery.attempt)).toEqual(burst.map(() => 1));
  });

  it('keeps a message its handler refuses for good, and moves on', async () => {
    handler.permanent.add(8);
    await outbox.enqueue(dataSource.manager, 'test.notes', { n: 8 });
    await outbox.enqueue(dataSource.manager, 'test.notes', { n: 9 });
    await until(() => handler.delivered.length === 1);
    expect(handler.delivered).toEqual([9]);
    const [failed] = await dataSource.query<{ last_error: string; attempts: number }[]>(
      `SELECT last_error, attempts FROM outbox_messages WHERE failed_at IS NOT NULL`,
    );
    expect(failed).toEqual({ last_error: 'refused for good', attempts: 1 });
  });

  it('refuses a channel name the table would refuse', async () => {
    await expect(outbox.enqueue(dataSource.manager, 'Not A Channel', {})).rejects.toThrow(
      /channel names match/,
    );
  });

  it('doubles the retry delay up to five minutes', () => {
    expect([1, 2, 3, 4, 20].map((attempts) => retryDelaySeconds(attempts, 0))).toEqual([
      1, 2, 4, 8, 300,
    ]);
    expect(retryDelaySeconds(1, 1)).toBe(0.75);
  });
});
