import { Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown } from '@nestjs/common';

/**
 * Work a request starts and does not wait for: what a "forgot password" request does about the
 * address it names, so that its answer and its timing are the same whether an account has that
 * address or not (M6). The service waits for what is under way before it stops.
 */
@Injectable()
export class DetachedWork implements BeforeApplicationShutdown {
  private readonly logger = new Logger(DetachedWork.name);
  private readonly pending = new Set<Promise<void>>();

  run(label: string, work: () => Promise<void>): void {
    // After the answer is on its way, not in the same tick: nothing of it runs before the reply.
    const running = new Promise<void>((resolve) => setImmediate(resolve))
      .then(work)
      .catch((error: unknown) =>
        this.logger.error(`${label} failed: ${error instanceof Error ? error.message : error}`),
      )
      .finally(() => this.pending.delete(running));
    this.pending.add(running);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
