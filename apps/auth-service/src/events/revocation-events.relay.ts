import { Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { RevocationEvent } from '@tessera/auth-client';
import { RevocationsService } from '../revocations/revocations.service';
import { DomainEventsPublisher } from './domain-events.publisher';

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/**
 * Publishes `session.revoked` from the revocation log (ADR 0009) when NATS_URL is set. The log is
 * this event's transactional outbox, written by the database: every way a session ends (logout,
 * reuse, password change, a disabled user, an administrator's SQL) writes a row in the ending
 * transaction, and a row gets its position only when that transaction commits. So nothing
 * uncommitted is published and nothing committed is lost: the relay follows the log like any
 * revocation follower, from the last position it published, and after a failure (the broker
 * down) reads the backlog again from there. Each event's Nats-Msg-Id is `revocation-<position>`,
 * so a position published twice (a retry, another instance) is stored once.
 *
 * An instance starts from the log's whole backlog in force; the broker's de-duplication drops
 * what another instance (or this one, before a restart) published in the last two minutes, and
 * a follower of the stream applies a revocation twice without harm.
 */
@Injectable()
export class RevocationEventsRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RevocationEventsRelay.name);
  /** The last position published. */
  private published?: string;
  private pending: RevocationEvent[] = [];
  private unsubscribe?: () => void;
  private running?: Promise<void>;
  private wake?: () => void;
  private stopped = false;

  constructor(
    private readonly revocations: RevocationsService,
    private readonly publisher: DomainEventsPublisher,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onApplicationBootstrap(): void {
    // Not in a one-off command (an application context, no HTTP adapter): the service relays.
    if (!this.publisher.enabled || !this.adapterHost.httpAdapter) return;
    this.running = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.wake?.();
    await this.running;
  }

  private async run(): Promise<void> {
    let retry = FIRST_RETRY_MS;
    while (!this.stopped) {
      try {
        await this.relay();
        retry = FIRST_RETRY_MS;
      } catch (error) {
        if (this.stopped) return;
        this.logger.warn(
          `Publishing revocations failed (${error instanceof Error ? error.message : error}); ` +
            `retrying from position ${this.published ?? 'start'}`,
        );
        // Read the backlog again from the last position published: nothing is skipped.
        this.unsubscribe?.();
        this.unsubscribe = undefined;
        this.pending = [];
      }
      if (this.stopped) return;
      await this.sleep(retry);
      retry = Math.min(retry * 2, MAX_RETRY_MS);
    }
  }

  /** Backlog, then live events, until a publication fails or the service stops. */
  private async relay(): Promise<void> {
    if (!this.unsubscribe) {
      // Subscribe before reading the backlog, so that nothing committed in between is missed.
      this.unsubscribe = this.revocations.subscribe({
        deliver: (events) => {
          this.pending.push(...events);
          this.wake?.();
        },
        end: () => undefined,
      });
      const backlog = await this.revocations.since(this.published);
      this.pending.unshift(...backlog.events);
    }
    while (!this.stopped) {
      const event = this.pending.shift();
      if (!event) {
        await this.sleep(60_000);
        continue;
      }
      if (this.published !== undefined && BigInt(event.id) <= BigInt(this.published)) continue;
      await this.publisher.publish('session.revoked', event, { id: `revocation-${event.id}` });
      this.published = event.id;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      setTimeout(resolve, ms).unref();
    });
  }
}
