import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type * as Nats from 'nats';
import type { ConsumerMessages, NatsConnection } from 'nats';
import { ensureEventsStream, EVENTS_STREAM, eventSubject } from '../events/domain-events';
import type { RevocationEvent, RevocationFeedState, RevocationSink } from './revocation-feed';

export interface RevocationStreamOptions {
  /** The NATS server(s), e.g. `nats://nats:4222` (NATS_URL; a comma-separated list for a cluster). */
  servers: string;
  /** This service's id, the start of its consumer's name (e.g. `resource-service`). */
  name: string;
}

const PRUNE_EVERY_MS = 30_000;
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;
/** A consumer whose process died without deleting it is removed by the server after this. */
const ABANDONED_CONSUMER_MS = 3600_000;
/**
 * How long one pull waits for messages before the next. nats.js derives the rest from it: the
 * broker's heartbeats come every half of it, two missed ones re-pull, and after a failed check it
 * waits this long before the next. Its default, 30 s, left a consumer deaf for 21 to 41 s after a
 * broker restart (broker.spec.ts); 5 s costs an idle consumer one small request every 5 s.
 */
const PULL_EXPIRES_MS = 5_000;

/**
 * The revocation follower over NATS JetStream, for services that run a broker (ADR 0013): the
 * same RevocationSink as the server-sent events feed (`RevocationFeed`), filled from the
 * `session.revoked` events auth-service publishes from its revocation log.
 *
 * Each process has a durable consumer of its own (every instance needs every revocation) that
 * acknowledges each event once it is in the list: a broker restart or a dropped connection
 * resumes from the last acknowledged sequence and misses nothing. A new process starts its
 * consumer at the stream's first event, since its list lives in memory; events whose tokens have
 * all expired are skipped. `stop()` deletes the consumer; one left by a crash is removed by the
 * server after an hour.
 */
export class RevocationStream {
  private readonly logger = new Logger(RevocationStream.name);
  private readonly durable: string;
  private connection?: NatsConnection;
  private messages?: ConsumerMessages;
  private running?: Promise<void>;
  private pruner?: NodeJS.Timeout;
  private stopped = false;
  private wake?: () => void;
  private readyResolvers: (() => void)[] = [];
  state: RevocationFeedState = 'connecting';

  constructor(
    private readonly options: RevocationStreamOptions,
    private readonly list: RevocationSink,
  ) {
    this.durable = `${options.name}-revocations-${randomUUID().slice(0, 8)}`;
  }

  start(): void {
    this.running ??= this.run();
    this.pruner = setInterval(() => this.list.prune(), PRUNE_EVERY_MS);
    this.pruner.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.state = 'stopped';
    clearInterval(this.pruner);
    this.wake?.();
    const connection = this.connection;
    if (connection && !connection.isClosed()) {
      await this.messages?.close().catch(() => undefined);
      const manager = await connection.jetstreamManager().catch(() => undefined);
      await manager?.consumers.delete(EVENTS_STREAM, this.durable).catch(() => undefined);
      await connection.close().catch(() => undefined);
    }
    await this.running;
  }

  /** Resolves once the consumer has caught up with the stream (tests, start-up checks). */
  ready(): Promise<void> {
    if (this.state === 'live') return Promise.resolve();
    return new Promise((resolve) => this.readyResolvers.push(resolve));
  }

  private async run(): Promise<void> {
    let retry = FIRST_RETRY_MS;
    while (!this.stopped) {
      try {
        await this.follow();
        retry = FIRST_RETRY_MS;
      } catch (error) {
        if (this.stopped) return;
        this.markDown(error instanceof Error ? error.message : String(error));
      }
      if (this.stopped) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, retry).unref();
      });
      retry = Math.min(retry * 2, MAX_RETRY_MS);
    }
  }

  /**
   * One consumer session, from the durable consumer's position: until the connection drops and
   * comes back (see {@link watch}), or the stream stops.
   */
  private async follow(): Promise<void> {
    // Loaded only when the stream is followed: a service on the SSE feed never loads the client.
    const { AckPolicy, connect, DeliverPolicy, nanos } = require('nats') as typeof Nats;
    if (!this.connection) {
      this.connection = await connect({
        servers: this.options.servers.split(','),
        name: this.durable,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
      });
      void this.watch(this.connection);
    }
    const manager = await this.connection.jetstreamManager();
    await ensureEventsStream(manager);
    await manager.consumers.add(EVENTS_STREAM, {
      durable_name: this.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: eventSubject('session.revoked'),
      inactive_threshold: nanos(ABANDONED_CONSUMER_MS),
    });
    const consumer = await this.connection.jetstream().consumers.get(EVENTS_STREAM, this.durable);
    if ((await consumer.info()).num_pending === 0) this.markLive();
    this.messages = await consumer.consume({ max_messages: 256, expires: PULL_EXPIRES_MS });
    for await (const message of this.messages) {
      this.list.add([message.json<RevocationEvent>()]);
      message.ack();
      if (message.info.pending === 0) this.markLive();
    }
  }

  /**
   * The connection's own reconnects: down while it is away. Once it is back, the consumer session
   * ends and {@link run} opens a new one, which is live when it has caught up. nats.js would
   * resume the old session itself, but when its first check after a reconnect fails (the
   * broker's JetStream still starting) it waits a whole pull expiry before the next, and until
   * then the stream would call itself live while it heard nothing.
   */
  private async watch(connection: NatsConnection): Promise<void> {
    for await (const status of connection.status()) {
      if (this.stopped) return;
      if (status.type === 'disconnect') this.markDown('the NATS connection dropped');
      else if (status.type === 'reconnect') await this.messages?.close().catch(() => undefined);
    }
  }

  private markLive(): void {
    if (this.state === 'down') this.logger.log('Revocation stream resumed');
    this.state = 'live';
    for (const resolve of this.readyResolvers.splice(0)) resolve();
  }

  private markDown(reason: string): void {
    if (this.state !== 'down') {
      this.logger.warn(
        `Revocation stream is down (${reason}); reconnecting. Until it is back, revoked sessions ` +
          'are refused only when their access tokens expire.',
      );
    }
    this.state = 'down';
  }
}
