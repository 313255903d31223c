import { Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AuditService } from './audit.service';

const SUMMARISE_EVERY_MS = 60 * 1000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/**
 * The audit log's two jobs: each minute, the suppressed-event counters of the minutes that are
 * over become summary rows; each hour, rows older than AUDIT_RETENTION days are pruned through
 * the schema's pruning function. Several instances may run them at once: both are idempotent.
 */
@Injectable()
export class AuditMaintenance implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AuditMaintenance.name);
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly audit: AuditService) {}

  onApplicationBootstrap(): void {
    this.timers.push(
      setInterval(
        () =>
          void this.quietly('Summarising suppressed audit events', () => this.audit.summarise()),
        SUMMARISE_EVERY_MS,
      ),
      setInterval(
        () => void this.quietly('Pruning the audit log', () => this.audit.prune()),
        PRUNE_EVERY_MS,
      ),
    );
    for (const timer of this.timers) timer.unref();
  }

  onApplicationShutdown(): void {
    for (const timer of this.timers) clearInterval(timer);
  }

  private async quietly(what: string, job: () => Promise<number>): Promise<void> {
    try {
      const count = await job();
      if (count > 0) this.logger.log(`${what}: ${count} rows`);
    } catch (error) {
      this.logger.warn(`${what} failed: ${error instanceof Error ? error.message : error}`);
    }
  }
}
