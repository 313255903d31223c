import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { Clock } from '@tessera/auth-token';
import { Repository } from 'typeorm';
import { authServiceConfig } from '../config/auth-service.config';
import { MfaFailure } from './mfa-failure.entity';
import { TooManySecondFactorAttemptsException } from './mfa.errors';

/**
 * Second-factor lock-out (checklist M1): past MFA_FAILURE_LIMIT wrong second factors within
 * MFA_LOCKOUT_SECONDS, every check of the user's is refused until the oldest leaves the window.
 * A six-digit code has a million values: five guesses per quarter-hour make it hopeless. Only
 * someone past the password (or signed in) reaches it, so it cannot lock out a stranger's account.
 */
@Injectable()
export class MfaLockout {
  constructor(
    @InjectRepository(MfaFailure) private readonly failures: Repository<MfaFailure>,
    @Inject(authServiceConfig.KEY) private readonly env: ConfigType<typeof authServiceConfig>,
    private readonly clock: Clock,
  ) {}

  /** @throws TooManySecondFactorAttemptsException (429, Retry-After) while the user is locked. */
  async assertOpen(userId: string): Promise<void> {
    const now = this.clock.now();
    const [row]: { freed: Date | null }[] = await this.failures.query(
      `SELECT (SELECT failed_at FROM mfa_failures
                WHERE user_id = $1 AND failed_at > $2
                ORDER BY failed_at DESC OFFSET $3 LIMIT 1) AS freed`,
      [userId, this.windowStart(now), this.env.MFA_FAILURE_LIMIT - 1],
    );
    if (!row.freed) return;
    const until = row.freed.getTime() + this.env.MFA_LOCKOUT_SECONDS * 1000;
    throw new TooManySecondFactorAttemptsException(
      Math.max(Math.ceil((until - now.getTime()) / 1000), 1),
    );
  }

  /** Counts a wrong second factor; true when it is the one that locks the user. */
  async failed(userId: string): Promise<boolean> {
    const now = this.clock.now();
    const [row]: { count: number }[] = await this.failures.query(
      `WITH pruned AS (DELETE FROM mfa_failures WHERE user_id = $1 AND failed_at <= $3),
            added AS (INSERT INTO mfa_failures (user_id, failed_at) VALUES ($1, $2))
       SELECT count(*)::int + 1 AS count FROM mfa_failures WHERE user_id = $1 AND failed_at > $3`,
      [userId, now, this.windowStart(now)],
    );
    return row.count === this.env.MFA_FAILURE_LIMIT;
  }

  /** A right second factor clears the count. */
  async succeeded(userId: string): Promise<void> {
    await this.failures.delete({ userId });
  }

  private windowStart(now: Date): Date {
    return new Date(now.getTime() - this.env.MFA_LOCKOUT_SECONDS * 1000);
  }
}
