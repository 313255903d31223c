import { Injectable } from '@nestjs/common';
import { Metrics } from '@tessera/platform';
import type { MetricCounter } from '@tessera/platform';

/**
 * The outbox's counters, per channel:
 *
 * - `tessera_outbox_delivered_total{channel}`: messages a handler took.
 * - `tessera_outbox_retries_total{channel}`: failed attempts that will be tried again.
 * - `tessera_outbox_failed_total{channel}`: messages given up on (OutboxPermanentFailure).
 */
@Injectable()
export class OutboxMetrics {
  private readonly deliveries: MetricCounter<'channel'>;
  private readonly retries: MetricCounter<'channel'>;
  private readonly failures: MetricCounter<'channel'>;

  constructor(metrics: Metrics) {
    this.deliveries = metrics.counter(
      'tessera_outbox_delivered_total',
      'Outbox messages delivered, by channel',
      ['channel'],
    );
    this.retries = metrics.counter(
      'tessera_outbox_retries_total',
      'Outbox deliveries that failed and will be tried again, by channel',
      ['channel'],
    );
    this.failures = metrics.counter(
      'tessera_outbox_failed_total',
      'Outbox messages given up on, by channel',
      ['channel'],
    );
  }

  /** Exports every channel's counters at 0 from the start. */
  channels(names: readonly string[]): void {
    for (const channel of names) {
      for (const counter of [this.deliveries, this.retries, this.failures]) {
        counter.inc({ channel }, 0);
      }
    }
  }

  delivered(channel: string): void {
    this.deliveries.inc({ channel });
  }

  retried(channel: string): void {
    this.retries.inc({ channel });
  }

  failed(channel: string): void {
    this.failures.inc({ channel });
  }
}
