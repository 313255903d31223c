import { Inject, Injectable, Logger } from '@nestjs/common';
import type {
  BeforeApplicationShutdown,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import type { RevocationEvent } from '@tessera/auth-client';
import { Repository } from 'typeorm';
import { Clock } from '@tessera/auth-token';
import { authServiceConfig } from '../config/auth-service.config';
import { Revocation } from './revocation.entity';

/** The wire format is @tessera/auth-client's, which follows this log. */
export type { RevocationEvent };

/** One open stream: gets each batch of new events, and is ended when the service stops. */
export interface RevocationFollower {
  deliver(events: RevocationEvent[]): void;
  end(): void;
}

/** What a (re)connecting follower gets before the live events. */
export interface RevocationBacklog {
  /** Every event in force after the follower's position (all of them on a reset), oldest first. */
  events: RevocationEvent[];
  /** The position the backlog is complete through: where the follower resumes next time. */
  through: string;
  /**
   * The follower's position is not one this log can resume from: rows after it were pruned, or
   * it is beyond the log's end (another database, or one restored from a backup). `events` is
   * then the full list of revocations in force, and the follower must take it all.
   */
  reset: boolean;
}

/** How often new rows are looked for while anyone follows. */
export const POLL_INTERVAL_MS = 250;
/** Pruning, and the heartbeat that records this instance's access-token lifetime. */
const MAINTAIN_EVERY_MS = 60_000;
/**
 * How far ahead each heartbeat vouches for the lifetime: the instance may issue tokens with its
 * ACCESS_TOKEN_TTL until then. Five heartbeats may fail in a row before a token it issues is not
 * covered, and an instance that cannot reach its database issues no user tokens.
 */
const LIFETIME_VOUCHED_AHEAD_MS = 5 * 60_000;
/** Beyond the access-token lifetime: the largest leeway a verifier may allow (R17). */
const VERIFIER_LEEWAY_SECONDS = 60;

/** A bigint a follower may send as its position (PostgreSQL's bigint, positive). */
const POSITION = /^\d{1,19}$/;
const MAX_POSITION = 2n ** 63n - 1n;

const EVENT_COLUMNS = `position::text AS "position", kind, subject, session_id AS "sessionId",
  revoked_at AS "revokedAt", expires_at AS "expiresAt"`;
type EventRow = Pick<Revocation, 'kind' | 'subject' | 'sessionId' | 'revokedAt' | 'expiresAt'> & {
  position: string;
};

/**
 * The revocation log, for resource services: a backlog from any position, and live events for
 * followers. Positions are handed out in commit order by the database (the migration
 * RevocationPositions), so a follower that resumes after the last position it applied misses
 * nothing, however late a transaction committed. One poller per instance reads new rows while
 * anyone follows, whichever instance wrote them; rows no token can need any more are deleted.
 */
@Injectable()
export class RevocationsService
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger(RevocationsService.name);
  private readonly followers = new Set<RevocationFollower>();
  /** The last position the poller read; unset while nobody follows. */
  private cursor?: string;
  private settingCursor?: Promise<void>;
  private poller?: NodeJS.Timeout;
  private maintainer?: NodeJS.Timeout;
  private polling = false;
  private closing = false;

  constructor(
    @InjectRepository(Revocation) private readonly revocations: Repository<Revocation>,
    private readonly clock: Clock,
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  /** Before the first token: the revocations made from now on cover this instance's lifetime. */
  async onApplicationBootstrap(): Promise<void> {
    await this.recordTokenLifetime();
    this.maintainer = setInterval(() => void this.maintain(), MAINTAIN_EVERY_MS);
    this.maintainer.unref();
  }

  /**
   * Streams never go idle, so the HTTP server's graceful close would wait on them until
   * SHUTDOWN_TIMEOUT. End them first: followers reconnect (to another instance, or to this one
   * once it is back) with their last position and miss nothing.
   */
  beforeApplicationShutdown(): void {
    this.closing = true;
    for (const follower of [...this.followers]) follower.end();
    this.followers.clear();
    this.stopPolling();
  }

  onApplicationShutdown(): void {
    clearInterval(this.maintainer);
  }

  /**
   * What a follower at `after` (its last position; undefined for a new follower) needs before
   * the live events. Called after `subscribe`, it reads no earlier than the poller's starting
   * point, so between the two nothing is missed.
   */
  async since(after?: string): Promise<RevocationBacklog> {
    if (this.followers.size > 0) await this.startCursor();
    const known = after !== undefined && POSITION.test(after) && BigInt(after) <= MAX_POSITION;
    // One statement, one snapshot: the log's end and its rows agree.
    const rows = await this.revocations.query<
      (Partial<EventRow> & { head: string; reset: boolean })[]
    >(
      `WITH log AS (
         SELECT position AS head,
                CASE WHEN $1::bigint IS NULL THEN $2::boolean
                     ELSE $1::bigint > position OR $1::bigint < resume_from END AS reset
           FROM revocation_log
       )
       SELECT log.head::text AS head, log.reset, ${EVENT_COLUMNS}
         FROM log LEFT JOIN revocations
           ON revocations.position > CASE WHEN log.reset THEN 0 ELSE COALESCE($1::bigint, 0) END
          AND revocations.expires_at > $3
        ORDER BY revocations.position`,
      [known ? after : null, after !== undefined, this.clock.now()],
    );
    const [first] = rows;
    return {
      // The log's end comes with every row, and alone (a row of nulls) when there is none.
      events: rows.flatMap((row) => (row.position ? [toEvent(row as EventRow)] : [])),
      through: first.head,
      reset: first.reset,
    };
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
      if (this.followers.size === 0) this.stopPolling();
    };
  }

  /** Deletes the rows no access token can need any more; returns how many. */
  async prune(): Promise<number> {
    // Followers behind the highest position pruned may have missed a row: they resynchronise.
    const [{ pruned }] = await this.revocations.query<{ pruned: number }[]>(
      `WITH gone AS (
         DELETE FROM revocations WHERE expires_at <= $1 RETURNING position
       ), moved AS (
         UPDATE revocation_log SET resume_from = GREATEST(resume_from, (SELECT max(position) FROM gone))
          WHERE EXISTS (SELECT 1 FROM gone)
       )
       SELECT count(*)::int AS pruned FROM gone`,
      [this.clock.now()],
    );
    return pruned;
  }

  /**
   * Records that this instance issues access tokens living ACCESS_TOKEN_TTL, for a while: each
   * revocation is then kept until the longest-lived token it may cover has expired, even one
   * issued before a restart that lowered ACCESS_TOKEN_TTL, or by an instance still running with
   * another value. Lifetimes whose tokens have all expired are forgotten.
   */
  async recordTokenLifetime(): Promise<void> {
    const now = this.clock.now();
    await this.revocations.query(
      `INSERT INTO access_token_lifetimes (ttl_seconds, issued_until) VALUES ($1, $2)
       ON CONFLICT (ttl_seconds) DO UPDATE
         SET issued_until = GREATEST(access_token_lifetimes.issued_until, EXCLUDED.issued_until)`,
      [this.environment.ACCESS_TOKEN_TTL, new Date(now.getTime() + LIFETIME_VOUCHED_AHEAD_MS)],
    );
    await this.revocations.query(
      `DELETE FROM access_token_lifetimes
        WHERE issued_until + make_interval(secs => ttl_seconds + $2) < $1`,
      [now, VERIFIER_LEEWAY_SECONDS],
    );
  }

  private async maintain(): Promise<void> {
    try {
      await this.recordTokenLifetime();
      await this.prune();
    } catch (error) {
      this.logger.warn(
        `Maintaining the revocation log failed: ${error instanceof Error ? error.message : error}`,
      );
    }
  }

  private startPolling(): void {
    void this.startCursor().catch(() => undefined);
    this.poller = setInterval(() => void this.poll(), POLL_INTERVAL_MS);
    this.poller.unref();
  }

  private stopPolling(): void {
    clearInterval(this.poller);
    this.poller = undefined;
    this.cursor = undefined;
  }

  /** The poller starts at the log's end; a backlog read after this one misses nothing. */
  private startCursor(): Promise<void> {
    if (this.cursor !== undefined) return Promise.resolve();
    this.settingCursor ??= this.revocations
      .query<{ head: string }[]>(`SELECT position::text AS head FROM revocation_log`)
      .then(([{ head }]) => {
        if (this.poller !== undefined) this.cursor ??= head;
      })
      .finally(() => (this.settingCursor = undefined));
    return this.settingCursor;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      if (this.cursor === undefined) await this.startCursor();
      const cursor = this.cursor;
      if (cursor === undefined) return;
      const rows = await this.revocations.query<EventRow[]>(
        // Ordered by the column: the output's position is text.
        `SELECT ${EVENT_COLUMNS} FROM revocations
          WHERE revocations.position > $1 ORDER BY revocations.position`,
        [cursor],
      );
      if (rows.length === 0 || this.cursor !== cursor) return;
      this.cursor = rows[rows.length - 1].position;
      const events = rows.map(toEvent);
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
}

function toEvent(row: EventRow): RevocationEvent {
  return {
    id: row.position,
    kind: row.kind,
    sub: row.subject,
    ...(row.sessionId !== null && { sid: row.sessionId }),
    revoked_at: Math.floor(row.revokedAt.getTime() / 1000),
    exp_by: Math.floor(row.expiresAt.getTime() / 1000),
  };
}
