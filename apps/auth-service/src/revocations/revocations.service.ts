import { Inject, Injectable, Logger } from '@nestjs/common';
import type {
  BeforeApplicationShutdown,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import type { RevocationEvent } from '@tessera/auth-client';
import { LessThan, Repository } from 'typeorm';
import { Clock } from '@tessera/auth-token';
import { authServiceConfig } from '../config/auth-service.config';
import { Revocation } from './revocation.entity';

/** The wire format is @tessera/auth's, which follows this log. */
export type { RevocationEvent };

/** One open stream: gets each batch of new events, and is ended when the service stops. */
export interface RevocationFollower {
  deliver(events: RevocationEvent[]): void;
  end(): void;
}

/** How often new rows are looked for while anyone follows. */
export const POLL_INTERVAL_MS = 250;
/**
 * Row ids are handed out at insert, but transactions commit in any order: a row with a lower id
 * can appear after a higher one was read. Every read also looks this far back, and events are
 * idempotent, so nothing committed late is missed.
 */
const LATE_COMMIT_WINDOW_MS = 10_000;
/** Beyond the access-token lifetime: the largest leeway a verifier may allow (R17). */
const VERIFIER_LEEWAY_SECONDS = 60;
const PRUNE_EVERY_MS = 60_000;

/**
 * The revocation log, for resource services: a backlog from any event id, and live events for
 * followers. One poller per instance reads new rows while anyone follows, whichever instance
 * wrote them; rows no token can need any more are deleted.
 */
@Injectable()
export class RevocationsService
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger(RevocationsService.name);
  private readonly followers = new Set<RevocationFollower>();
  /** Ids broadcast within the late-commit window, so a re-read row is not sent twice. */
  private readonly recent = new Map<string, number>();
  private lastId = '0';
  private poller?: NodeJS.Timeout;
  private pruner?: NodeJS.Timeout;
  private polling = false;
  private closing = false;

  constructor(
    @InjectRepository(Revocation) private readonly revocations: Repository<Revocation>,
    private readonly clock: Clock,
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  onApplicationBootstrap(): void {
    this.pruner = setInterval(() => void this.prune().catch(() => undefined), PRUNE_EVERY_MS);
    this.pruner.unref();
  }

  /**
   * Streams never go idle, so the HTTP server's graceful close would wait on them until
   * SHUTDOWN_TIMEOUT. End them first: followers reconnect (to another instance, or to this one
   * once it is back) with their last event id and miss nothing.
   */
  beforeApplicationShutdown(): void {
    this.closing = true;
    for (const follower of [...this.followers]) follower.end();
    this.followers.clear();
    clearInterval(this.poller);
  }

  onApplicationShutdown(): void {
    clearInterval(this.pruner);
  }

  /** Every event still in force after `afterId` (and any committed late), oldest first. */
  async since(afterId: string): Promise<RevocationEvent[]> {
    const rows = await this.read(afterId);
    return rows.map((row) => this.toEvent(row));
  }

  /** Delivers every new event to `follower` until the returned function is called. */
  subscribe(follower: RevocationFollower): () => void {
    // A stream opened while the service stops would hold the close up just the same.
    if (this.closing) {
      follower.end();
      return () => undefined;
    }
    if (this.followers.size === 0) this.startPolling();
    this.followers.add(follower);
    return () => {
      this.followers.delete(follower);
      if (this.followers.size === 0) clearInterval(this.poller);
    };
  }

  /** Deletes the rows no access token can need any more; returns how many. */
  async prune(): Promise<number> {
    const { affected } = await this.revocations.delete({
      revokedAt: LessThan(this.inForceSince()),
    });
    return affected ?? 0;
  }

  private startPolling(): void {
    this.poller = setInterval(() => void this.poll(), POLL_INTERVAL_MS);
    this.poller.unref();
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const now = this.clock.now().getTime();
      const fresh = (await this.read(this.lastId)).filter((row) => !this.recent.has(row.id));
      for (const [id, seenAt] of this.recent)
        if (now - seenAt > LATE_COMMIT_WINDOW_MS) this.recent.delete(id);
      if (fresh.length === 0) return;
      for (const row of fresh) {
        this.recent.set(row.id, now);
        if (BigInt(row.id) > BigInt(this.lastId)) this.lastId = row.id;
      }
      const events = fresh.map((row) => this.toEvent(row));
      for (const follower of this.followers) follower.deliver(events);
    } catch (error) {
      // The database may be down: followers keep what they have and the next poll tries again.
      this.logger.warn(
        `Reading the revocation log failed: ${error instanceof Error ? error.message : error}`,
      );
    } finally {
      this.polling = false;
    }
  }

  private read(afterId: string): Promise<Revocation[]> {
    const now = this.clock.now().getTime();
    return this.revocations
      .createQueryBuilder('revocation')
      .where('(revocation.id > :afterId OR revocation.revokedAt > :lateSince)', {
        afterId,
        lateSince: new Date(now - LATE_COMMIT_WINDOW_MS),
      })
      .andWhere('revocation.revokedAt >= :inForceSince', { inForceSince: this.inForceSince() })
      .orderBy('revocation.id', 'ASC')
      .getMany();
  }

  /** Revocations older than this cover no token that can still be valid. */
  private inForceSince(): Date {
    const lifetime = (this.environment.ACCESS_TOKEN_TTL + VERIFIER_LEEWAY_SECONDS) * 1000;
    return new Date(this.clock.now().getTime() - lifetime);
  }

  private toEvent(row: Revocation): RevocationEvent {
    const revokedAt = Math.floor(row.revokedAt.getTime() / 1000);
    return {
      id: row.id,
      kind: row.kind,
      sub: row.subject,
      ...(row.sessionId !== null && { sid: row.sessionId }),
      revoked_at: revokedAt,
      exp_by: revokedAt + this.environment.ACCESS_TOKEN_TTL + VERIFIER_LEEWAY_SECONDS,
    };
  }
}
