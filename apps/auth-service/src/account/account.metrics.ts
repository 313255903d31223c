import { Injectable } from '@nestjs/common';
import { Metrics } from '@tessera/platform';
import type { MetricCounter } from '@tessera/platform';

export const ACCOUNT_EVENTS = [
  'verification_sent',
  'email_verified',
  'reset_requested',
  'reset_sent',
  'password_reset',
  'email_change_requested',
  'email_changed',
  'email_change_undone',
  'token_refused',
  'mail_throttled',
] as const;
export type AccountEvent = (typeof ACCOUNT_EVENTS)[number];

/**
 * `tessera_account_events_total{event}`: each step of email verification, password reset and
 * email change (docs/account-lifecycle.md). `reset_requested` counts every request, known
 * address or not; `reset_sent` only those that sent a mail.
 */
@Injectable()
export class AccountMetrics {
  private readonly events: MetricCounter<'event'>;

  constructor(metrics: Metrics) {
    this.events = metrics.counter(
      'tessera_account_events_total',
      'Steps of email verification, password reset and email change, by event',
      ['event'],
      ACCOUNT_EVENTS.map((event) => ({ event })),
    );
  }

  count(event: AccountEvent): void {
    this.events.inc({ event });
  }
}
