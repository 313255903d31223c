import { Injectable, Optional } from '@nestjs/common';
import { Metrics } from '@tessera/platform';
import type { MetricCounter } from '@tessera/platform';
import type { FastifyRequest } from 'fastify';
import { missingBearerToken } from '../http/bearer-challenge';
import { unvalidatedBearerTokenOf } from '../http/bearer-token';
import type { InvalidAccessTokenReason } from '@tessera/auth-token';

/**
 * Why the guard turned a request away: no token (401 without `error`), a token sent two ways
 * (400), a bad token (401 `invalid_token`, by the verifier's reason), a revoked session (401), or
 * a token without the scope or role (403), or a sign-in too weak or old for the route
 * (401 `insufficient_user_authentication`), or an unverified email address on a route that needs
 * one (403 `email_not_verified`). A fixed set, so the label stays small.
 */
export type GuardRefusalReason =
  | 'missing_token'
  | 'ambiguous_token'
  | InvalidAccessTokenReason
  | 'revoked'
  | 'insufficient_scope'
  | 'insufficient_user_authentication'
  | 'email_not_verified';

export type JwksFetchOutcome = 'success' | 'failure';

const REFUSAL_REASONS: readonly GuardRefusalReason[] = [
  'missing_token',
  'ambiguous_token',
  'malformed',
  'algorithm',
  'type',
  'unsupported_header',
  'unknown_key',
  'signature',
  'expired',
  'not_yet_valid',
  'issuer',
  'audience',
  'claims',
  'revoked',
  'insufficient_scope',
  'insufficient_user_authentication',
  'email_not_verified',
];

/**
 * What AuthModule's guard counts, into the service's Metrics when the application has them (every
 * service built with @tessera/platform does); without them the counts go nowhere. A service with
 * guards of its own (auth-service's session guard) provides it and counts into the same series.
 *
 * - `tessera_guard_refusals_total{reason}`: requests the guard refused, by GuardRefusalReason.
 * - `tessera_jwks_fetches_total{outcome}`: requests for the issuer's JWKS, `success` or `failure`.
 */
@Injectable()
export class GuardMetrics {
  private readonly refusals?: MetricCounter<'reason'>;
  private readonly jwksFetches?: MetricCounter<'outcome'>;

  constructor(@Optional() metrics?: Metrics) {
    this.refusals = metrics?.counter(
      'tessera_guard_refusals_total',
      'Requests the JWT guard refused, by reason',
      ['reason'],
      REFUSAL_REASONS.map((reason) => ({ reason })),
    );
    this.jwksFetches = metrics?.counter(
      'tessera_jwks_fetches_total',
      "Requests for the issuer's JWKS, by outcome",
      ['outcome'],
      [{ outcome: 'success' }, { outcome: 'failure' }],
    );
  }

  refused(reason: GuardRefusalReason): void {
    this.refusals?.inc({ reason });
  }

  jwksFetched(outcome: JwksFetchOutcome): void {
    this.jwksFetches?.inc({ outcome });
  }
}

/**
 * The request's bearer token as sent (see {@link unvalidatedBearerTokenOf}: its syntax is read by
 * the verifier unless the caller knows the string), or the guards' refusal: 401
 * with a bare challenge when there is none, 400 when it is sent two ways; each refusal is counted
 * in `metrics`.
 */
export function requireBearerToken(request: FastifyRequest, metrics: GuardMetrics): string {
  let token: string | undefined;
  try {
    token = unvalidatedBearerTokenOf(request);
  } catch (error) {
    metrics.refused('ambiguous_token');
    throw error;
  }
  if (token === undefined) {
    metrics.refused('missing_token');
    throw missingBearerToken();
  }
  return token;
}
