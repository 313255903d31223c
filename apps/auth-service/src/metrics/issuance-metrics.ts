import { Injectable } from '@nestjs/common';
import { Metrics } from '@tessera/platform';
import type { MetricCounter } from '@tessera/platform';
import { SESSION_REVOCATION_REASONS } from '../sessions/session.entity';
import type { SessionRevocationReason } from '../sessions/session.entity';

/**
 * What auth-service signs and ends: a user's access token (`access`), a client-credentials token
 * (`service`), an OpenID Connect ID token (`id`), a new refresh token (`refresh`: at login and on
 * each rotation; a grace-window retry re-sends its successor and is not counted again).
 */
export type IssuedTokenKind = 'access' | 'refresh' | 'id' | 'service';

const TOKEN_KINDS: readonly IssuedTokenKind[] = ['access', 'refresh', 'id', 'service'];

/**
 * auth-service's counters, in the application's Metrics (docs/architecture.md, "Logs and
 * metrics"):
 *
 * - `tessera_tokens_issued_total{kind}`
 * - `tessera_refresh_reuse_detected_total`: spent refresh tokens presented again, each of which
 *   revoked its session.
 * - `tessera_sessions_revoked_total{reason}`: sessions ended, by SessionRevocationReason; a
 *   logout-all that ends three sessions counts three.
 */
@Injectable()
export class IssuanceMetrics {
  private readonly issued: MetricCounter<'kind'>;
  private readonly reuses: MetricCounter;
  private readonly revoked: MetricCounter<'reason'>;

  constructor(metrics: Metrics) {
    this.issued = metrics.counter(
      'tessera_tokens_issued_total',
      'Tokens signed or generated, by kind',
      ['kind'],
      TOKEN_KINDS.map((kind) => ({ kind })),
    );
    this.reuses = metrics.counter(
      'tessera_refresh_reuse_detected_total',
      'Spent refresh tokens presented again, each revoking its session',
    );
    this.revoked = metrics.counter(
      'tessera_sessions_revoked_total',
      'Sessions ended, by reason',
      ['reason'],
      SESSION_REVOCATION_REASONS.map((reason) => ({ reason })),
    );
  }

  tokenIssued(kind: IssuedTokenKind): void {
    this.issued.inc({ kind });
  }

  refreshReuseDetected(): void {
    this.reuses.inc({});
  }

  sessionsRevoked(reason: SessionRevocationReason, count = 1): void {
    if (count > 0) this.revoked.inc({ reason }, count);
  }
}
