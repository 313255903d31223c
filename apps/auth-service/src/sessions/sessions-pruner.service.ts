import { Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '@tessera/auth-token';
import { SessionsRepository } from './sessions.repository';

/** Ended sessions are kept this long (for "why was I logged out?"), then deleted. */
export const ENDED_SESSION_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/**
 * Keeps the sessions tables from growing with every login: once an hour, sessions that ended
 * more than a week ago are deleted with their refresh tokens. The audit log keeps the history.
 * Several instances may prune at once; the DELETE is idempotent.
 */
@Injectable()
export class SessionsPruner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SessionsPruner.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly repository: SessionsRepository,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.pruneQuietly(), PRUNE_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Deletes the sessions that ended before the retention period; returns how many. */
  async prune(): Promise<number> {
    const before = new Date(this.clock.now().getTime() - ENDED_SESSION_RETENTION_MS);
    return this.repository.deleteEndedBefore(before);
  }

  private async pruneQuietly(): Promise<void> {
    try {
      const deleted = await this.prune();
      if (deleted > 0) this.logger.log(`Deleted ${deleted} sessions that ended over a week ago`);
    } catch (error) {
      this.logger.warn(
        `Pruning sessions failed: ${error instanceof Error ? error.message : error}`,
      );
    }
  }
}
