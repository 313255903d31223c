import { Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, HttpAdapterHost } from '@nestjs/core';
import { Client as PgClient } from 'pg';
import type { ClientConfig } from 'pg';
import { DataSource } from 'typeorm';
import { OutboxChannel, OutboxPermanentFailure } from './outbox-handler';
import type { OutboxHandler } from './outbox-handler';
import { OutboxMetrics } from './outbox.metrics';

/** The PostgreSQL channel the outbox trigger notifies at each commit; the payload is the channel. */
export const OUTBOX_NOTIFY_CHANNEL = 'tessera_outbox';
/** The fallback when no notification arrives (listener down), and the clock of retries. */
export const OUTBOX_POLL_INTERVAL_MS = 1_000;
/** How long an instance holds a message it delivers before another may take it over. */
export const OUTBOX_LEASE_SECONDS = 60;
/** Retries wait 1 s, 2 s, 4 s, … up to this, each with up to a quarter less at random. */
export const OUTBOX_MAX_RETRY_DELAY_SECONDS = 300;
const RECONNECT_DELAY_MS = 1_000;
const ERROR_MAX_LENGTH = 500;

interface ClaimedRow {
  id: string;
  position: string;
  payload: unknown;
  attempts: number;
  created_at: Date;
}

/** Seconds before attempt `attempts + 1`, after `attempts` failed ones. */
export function retryDelaySeconds(attempts: number, random = Math.random()): number {
  const full = Math.min(OUTBOX_MAX_RETRY_DELAY_SECONDS, 2 ** Math.max(0, attempts - 1));
  return full * (1 - random / 4);
}

/**
 * Delivers the outbox to the handlers registered with `@OutboxChannel(name)`: each channel's
 * messages one at a time in commit order, a failed one retried with exponential backoff before
 * the channel goes on (a channel is a queue, not a bag). It wakes on the outbox trigger's
 * NOTIFY, on a connection of its own, and polls every OUTBOX_POLL_INTERVAL_MS for retries that
 * fall due and in case a notification was lost. Several instances share the work: the head of a
 * channel is leased to one of them at a time.
 *
 * It runs in the service only, not in a one-off command (`migrate`, `create-admin`: an
 * application context without an HTTP server), and it stops before the application's shutdown
 * hooks close the pool and the embedded PostgreSQL.
 */
@Injectable()
export class OutboxDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxDispatcher.name);
  private readonly handlers = new Map<string, OutboxHandler>();
  private listener?: PgClient;
  private poller?: NodeJS.Timeout;
  private reconnect?: NodeJS.Timeout;
  private draining?: Promise<void>;
  private again = false;
  private stopped = false;
  /**
   * Messages delivered whose rows could not be deleted yet (the database failed right after the
   * handler succeeded). Deleted before anything else is claimed: left to their lease, each would
   * hold its channel for OUTBOX_LEASE_SECONDS and then be delivered a second time.
   */
  private readonly delivered = new Set<string>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly dataSource: DataSource,
    private readonly metrics: OutboxMetrics,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onApplicationBootstrap(): void {
    for (const wrapper of this.discovery.getProviders({ metadataKey: OutboxChannel.KEY })) {
      const channel = this.discovery.getMetadataByDecorator(OutboxChannel, wrapper);
      if (!channel || !wrapper.instance) continue;
      if (this.handlers.has(channel)) {
        throw new Error(
          `Two outbox handlers for the channel ${channel}: ${wrapper.name} and another`,
        );
      }
      this.handlers.set(channel, wrapper.instance as OutboxHandler);
    }
    // A command's application context has no HTTP adapter: no background delivery there.
    if (this.handlers.size === 0 || !this.adapterHost.httpAdapter) return;
    this.metrics.channels([...this.handlers.keys()]);
    void this.listen();
    this.poller = setInterval(() => this.wake(), OUTBOX_POLL_INTERVAL_MS);
    this.poller.unref();
    this.wake();
  }

  /** Before the pool closes (TypeORM and the embedded PostgreSQL stop on application shutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poller);
    clearTimeout(this.reconnect);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    // A delivery under way finishes (its handler has its own timeouts); nothing new starts.
    await this.draining;
    // Left undeleted, a delivered message would be delivered again once its lease ends.
    await this.deleteDelivered().catch((error: unknown) =>
      this.logger.warn(`Deleting delivered outbox messages failed: ${messageOf(error)}`),
    );
  }

  /** The channels that have a handler. */
  get channels(): string[] {
    return [...this.handlers.keys()];
  }

  /** Delivers what is due now; a call while a round is under way runs another after it. */
  wake(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Resolves when no delivery round is under way (for tests and the shutdown). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      await this.deleteDelivered();
    } catch (error) {
      this.logger.warn(`Deleting delivered outbox messages failed: ${messageOf(error)}`);
      return;
    }
    for (const [channel, handler] of this.handlers) {
      try {
        while (!this.stopped && (await this.deliverNext(channel, handler)));
      } catch (error) {
        // The database is out of reach: the next poll tries again.
        this.logger.warn(`Reading the outbox of ${channel} failed: ${messageOf(error)}`);
      }
    }
  }

  /** Delivers the channel's head if it is due; true when it was delivered (go on). */
  private async deliverNext(channel: string, handler: OutboxHandler): Promise<boolean> {
    const [row] = await this.dataSource.query<ClaimedRow[]>(
      // The head is found once (MATERIALIZED). Joined as a subquery, it could be scanned again for
      // each row of the update's own scan, and each new scan skips the rows this statement has
      // already updated: LIMIT 1 then gives the next message, and one claim leased a whole burst,
      // of which it delivers one and leaves the rest to their lease (a mail channel stalled for
      // 60 s). The outer CTE because TypeORM answers a bare UPDATE … RETURNING with [rows, count].
      `WITH head AS MATERIALIZED (
         SELECT id FROM outbox_messages
          WHERE channel = $1 AND position IS NOT NULL AND failed_at IS NULL
          ORDER BY position LIMIT 1 FOR UPDATE
       ), claimed AS (
       UPDATE outbox_messages AS m
          SET lease_until = clock_timestamp() + make_interval(secs => $2), attempts = m.attempts + 1
         FROM head
        WHERE m.id = head.id AND m.next_attempt_at <= clock_timestamp()
          AND (m.lease_until IS NULL OR m.lease_until < clock_timestamp())
        RETURNING m.id::text AS id, m.position::text AS position, m.payload, m.attempts, m.created_at
       ) SELECT * FROM claimed`,
      [channel, OUTBOX_LEASE_SECONDS],
    );
    if (!row) return false;
    try {
      await handler.deliver(row.payload, {
        id: row.id,
        position: row.position,
        channel,
        attempt: row.attempts,
        createdAt: row.created_at,
      });
    } catch (error) {
      await this.failed(channel, row, error);
      return error instanceof OutboxPermanentFailure;
    }
    this.delivered.add(row.id);
    this.metrics.delivered(channel);
    // If this fails, the next round deletes it before it claims anything (see `delivered`).
    await this.deleteDelivered();
    return true;
  }

  private async deleteDelivered(): Promise<void> {
    if (this.delivered.size === 0) return;
    const ids = [...this.delivered];
    await this.dataSource.query(`DELETE FROM outbox_messages WHERE id = ANY($1::bigint[])`, [ids]);
    for (const id of ids) this.delivered.delete(id);
  }

  private async failed(channel: string, row: ClaimedRow, error: unknown): Promise<void> {
    const reason = messageOf(error).slice(0, ERROR_MAX_LENGTH);
    if (error instanceof OutboxPermanentFailure) {
      this.logger.error(`Outbox message ${row.id} on ${channel} cannot be delivered: ${reason}`);
      this.metrics.failed(channel);
      await this.dataSource.query(
        `UPDATE outbox_messages SET failed_at = clock_timestamp(), lease_until = NULL, last_error = $2
          WHERE id = $1`,
        [row.id, reason],
      );
      return;
    }
    const delay = retryDelaySeconds(row.attempts);
    this.logger.warn(
      `Outbox message ${row.id} on ${channel} failed (attempt ${row.attempts}): ${reason}; ` +
        `trying again in ${Math.ceil(delay)} s`,
    );
    this.metrics.retried(channel);
    await this.dataSource.query(
      `UPDATE outbox_messages
          SET lease_until = NULL, last_error = $2,
              next_attempt_at = clock_timestamp() + make_interval(secs => $3)
        WHERE id = $1`,
      [row.id, reason, delay],
    );
  }

  private async listen(): Promise<void> {
    if (this.stopped || !this.dataSource.isInitialized) return;
    // The pool's own settings (host, credentials, TLS), on a connection outside the pool.
    const options = (this.dataSource.driver as unknown as { master: { options: ClientConfig } })
      .master.options;
    const listener = new PgClient({ ...options, keepAlive: true });
    const retry = () => {
      if (this.listener !== listener && this.listener !== undefined) return;
      this.listener = undefined;
      listener.end().catch(() => undefined);
      if (this.stopped || this.reconnect) return;
      this.reconnect = setTimeout(() => {
        this.reconnect = undefined;
        void this.listen();
      }, RECONNECT_DELAY_MS);
      this.reconnect.unref();
    };
    listener.on('notification', ({ payload }) => {
      if (payload && this.handlers.has(payload)) this.wake();
    });
    listener.on('error', retry);
    listener.on('end', retry);
    this.listener = listener;
    try {
      await listener.connect();
      await listener.query(`LISTEN ${OUTBOX_NOTIFY_CHANNEL}`);
    } catch {
      retry();
      return;
    }
    if (this.stopped) await listener.end().catch(() => undefined);
    // Anything committed while it connected is picked up here rather than at the next poll.
    else this.wake();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
