import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { authServiceConfig } from '../config/auth-service.config';
import { LoginFailure } from './login-failure.entity';
import { TooManyLoginAttemptsException } from './login.errors';

/** Who is trying: the normalised email (known or not) and the client address. */
export interface LoginAttempt {
  account: string;
  address: string;
}

type Dimension = 'account' | 'address';

/**
 * Failed logins per account and per client address within a sliding window (checklist I10),
 * shared by every instance through PostgreSQL. A lock-out never outlasts the window, and a
 * success only clears the failures of its own (account, address) pair, so logging in from home
 * does not reset the budget of an attacker elsewhere.
 */
@Injectable()
export class LoginThrottle {
  constructor(
    @InjectRepository(LoginFailure) private readonly failures: Repository<LoginFailure>,
    @Inject(authServiceConfig.KEY) private readonly env: ConfigType<typeof authServiceConfig>,
  ) {}

  /**
   * Counts the attempt as a failure before its password is checked, then refuses it (429) if
   * that puts the account or the address over its limit. Writing first makes the limit hold
   * under concurrency: of N simultaneous attempts, the k-th to be written sees at least k rows,
   * so no more than the limit ever get their password checked. A refused attempt takes its row
   * back, so hammering a locked account does not lengthen the lock.
   */
  async begin(attempt: LoginAttempt, now: Date): Promise<void> {
    const since = this.windowStart(now);
    const id = await this.insertPruning(attempt, now, since);
    const counts = await this.count(attempt, since);
    const over = (['account', 'address'] as const).filter(
      (dimension) => counts[dimension] > this.limit(dimension),
    );
    if (over.length === 0) return;
    await this.failures.delete({ id });
    const waits = await Promise.all(
      over.map((dimension) => this.secondsUntilFree(dimension, attempt, now)),
    );
    throw new TooManyLoginAttemptsException(Math.max(...waits));
  }

  /** The password was right: forget the failures of this account from this address only. */
  async succeeded(attempt: LoginAttempt): Promise<void> {
    await this.failures.delete({ account: attempt.account, address: attempt.address });
  }

  private windowStart(now: Date): Date {
    return new Date(now.getTime() - this.env.LOGIN_THROTTLE_WINDOW * 1000);
  }

  private limit(dimension: Dimension): number {
    return dimension === 'account'
      ? this.env.LOGIN_ACCOUNT_FAILURE_LIMIT
      : this.env.LOGIN_ADDRESS_FAILURE_LIMIT;
  }

  /** Inserts the row and, in the same statement, drops the rows that have left the window. */
  private async insertPruning(attempt: LoginAttempt, now: Date, since: Date): Promise<string> {
    const rows: { id: string }[] = await this.failures.query(
      `WITH pruned AS (DELETE FROM login_failures WHERE failed_at <= $4)
       INSERT INTO login_failures (account, address, failed_at) VALUES ($1, $2, $3)
       RETURNING id`,
      [attempt.account, attempt.address, now, since],
    );
    return rows[0].id;
  }

  private async count(attempt: LoginAttempt, since: Date): Promise<Record<Dimension, number>> {
    const [row]: { account: number; address: number }[] = await this.failures.query(
      `SELECT count(*) FILTER (WHERE account = $1)::int AS account,
              count(*) FILTER (WHERE address = $2)::int AS address
         FROM login_failures
        WHERE failed_at > $3 AND (account = $1 OR address = $2)`,
      [attempt.account, attempt.address, since],
    );
    return row;
  }

  /**
   * When the limit-th newest failure leaves the window, fewer than the limit remain: with exactly
   * `limit` failures that is the oldest one. At least 1 second, at most the window.
   */
  private async secondsUntilFree(
    dimension: Dimension,
    attempt: LoginAttempt,
    now: Date,
  ): Promise<number> {
    const window = this.env.LOGIN_THROTTLE_WINDOW;
    const [row]: { failed_at: Date }[] = await this.failures.query(
      `SELECT failed_at FROM login_failures
        WHERE ${dimension} = $1 AND failed_at > $2
        ORDER BY failed_at DESC OFFSET $3 LIMIT 1`,
      [attempt[dimension], this.windowStart(now), this.limit(dimension) - 1],
    );
    if (!row) return 1;
    const seconds = Math.ceil((row.failed_at.getTime() + window * 1000 - now.getTime()) / 1000);
    return Math.min(Math.max(seconds, 1), window);
  }
}
