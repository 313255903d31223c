import { Injectable } from '@nestjs/common';
import { Metrics } from '@tessera/platform';
import type { MetricCounter } from '@tessera/platform';
import type { SecondFactorMethod } from './mfa.errors';

export type MfaOutcome = 'enrolled' | 'verified' | 'failed' | 'locked' | 'removed';

const METHODS: readonly SecondFactorMethod[] = ['totp', 'recovery_code', 'passkey'];
const OUTCOMES: readonly MfaOutcome[] = ['enrolled', 'verified', 'failed', 'locked', 'removed'];

/**
 * `tessera_mfa_events_total{method, outcome}`: second factors enrolled, verified, refused, locked
 * out and removed (for recovery codes, `enrolled` is a new set). Beside the audit log, which has
 * each one with its user.
 */
@Injectable()
export class MfaMetrics {
  private readonly events: MetricCounter<'method' | 'outcome'>;

  constructor(metrics: Metrics) {
    this.events = metrics.counter(
      'tessera_mfa_events_total',
      'Second factors enrolled, verified, refused, locked out and removed, by method',
      ['method', 'outcome'],
      METHODS.flatMap((method) => OUTCOMES.map((outcome) => ({ method, outcome }))),
    );
  }

  count(method: SecondFactorMethod, outcome: MfaOutcome): void {
    this.events.inc({ method, outcome });
  }
}
