import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { authServiceConfig } from '../config/auth-service.config';
import { addressGroup } from './address-group';
import { LoginFailure } from './login-failure.entity';
import {
  TooManyLoginAttemptsException,
  TooManyPasskeySignInsException,
  TooManyRegistrationsException,
} from './login.errors';

/** Who is trying: the normalised email (known or not) and the client address. */
export interface LoginAttempt {
  account: string;
  address: string;
}

/** The account ceiling counts failures over this long (NIST SP 800-63B §5.2.2 counts per hour). */
export const ACCOUNT_WINDOW_SECONDS = 3600;
/** The first delay of the pair limit, doubled at each further failure, capped at the window. */
export const PAIR_FIRST_DELAY_SECONDS = 10;
/** How long a successful sign-in makes its address group "known" to the account. */
export const KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600;
/** Registrations per address group are counted over this long (REGISTRATION_ADDRESS_LIMIT). */
export const REGISTRATION_WINDOW_SECONDS = 3600;
/**
 * Registrations are counted in `login_failures` too, under this account and their address group
 * prefixed with `registration ` (`registration 2001:db8:1:2::/64`): no login's email or address
 * group is ever either, so the login limits never count a registration, nor the other way round.
 */
export const REGISTRATION_ACCOUNT = '(registration)';
const REGISTRATION_ADDRESS_PREFIX = 'registration ';
/**
 * Passwordless passkey options (each one a stored WebAuthn challenge) are counted the same way,
 * under this account and their address group prefixed with `passkey-options `.
 */
export const PASSKEY_OPTIONS_ACCOUNT = '(passkey options)';
const PASSKEY_OPTIONS_ADDRESS_PREFIX = 'passkey-options ';

interface ThrottleState {
  pair: number;
  pairLast: Date | null;
  address: number;
  account: number;
  accountLast: Date | null;
  known: boolean;
}

/**
 * Login throttling (checklist I10; the model and its figures: docs/security-model.md, "Login
 * throttling"), shared by every instance through PostgreSQL. Three limits, none of which lets a
 * stranger lock an owner out:
 *
 * - per (account, address group) pair: LOGIN_PAIR_FAILURE_LIMIT free failures per window, then
 *   each further attempt waits a delay that doubles from PAIR_FIRST_DELAY_SECONDS up to the window;
 * - per address group (an IPv6 /64 is one address): LOGIN_ADDRESS_FAILURE_LIMIT failures per
 *   window across all accounts, then 429 until the oldest leaves the window;
 * - per account: past LOGIN_ACCOUNT_FAILURE_LIMIT failures in an hour, address groups that never
 *   signed in to the account share one slow lane (one attempt per hour / limit); address groups
 *   that did sign in within KNOWN_ADDRESS_SECONDS are not slowed by it.
 *
 * A success only clears the failures of its own pair, so signing in from home does not reset the
 * budget of an attacker elsewhere.
 */
@Injectable()
export class LoginThrottle {
  constructor(
    @InjectRepository(LoginFailure) private readonly failures: Repository<LoginFailure>,
    @Inject(authServiceConfig.KEY) private readonly env: ConfigType<typeof authServiceConfig>,
  ) {}

  /**
   * Counts the attempt as a failure before its password is checked, then refuses it (429 with
   * Retry-After) if a limit says it must wait. Writing first makes the limits hold under
   * concurrency: of N simultaneous attempts each sees the rows of those written before it. A
   * refused attempt takes its row back, so hammering a throttled account does not lengthen the
   * wait, and refused attempts never use up the slow lane.
   */
  async begin(attempt: LoginAttempt, now: Date): Promise<void> {
    const group = addressGroup(attempt.address);
    const id = await this.insertPruning(attempt.account, group, now);
    const state = await this.state(attempt.account, group, id, now);
    const waits = [
      this.pairWait(state, now),
      await this.addressWait(state, group, now),
      this.accountWait(state, now),
    ].filter((seconds) => seconds > 0);
    if (waits.length === 0) return;
    await this.failures.delete({ id });
    throw new TooManyLoginAttemptsException(Math.max(...waits));
  }

  /**
   * Counts a registration from `address` before its password is hashed (checklist I16), and
   * refuses it (429 with Retry-After) when REGISTRATION_ADDRESS_LIMIT others from its address
   * group (an IPv6 /64 is one) are in the last hour. Every registration counts, whatever comes of
   * it (an account, a taken email): each costs an argon2 hash. As with logins the row is written
   * before the count, so of a burst of simultaneous registrations at most the limit get through,
   * and a refused one takes its row back.
   */
  async beginRegistration(address: string, now: Date): Promise<void> {
    await this.beginPerAddress(
      { account: REGISTRATION_ACCOUNT, prefix: REGISTRATION_ADDRESS_PREFIX },
      { limit: this.env.REGISTRATION_ADDRESS_LIMIT, window: REGISTRATION_WINDOW_SECONDS },
      address,
      now,
      (seconds) => new TooManyRegistrationsException(seconds),
    );
  }

  /**
   * Counts a passwordless passkey sign-in's options (a WebAuthn challenge the service stores for
   * anyone who asks) from `address`, and refuses it (429 with Retry-After) when
   * PASSKEY_OPTIONS_ADDRESS_LIMIT others from its address group are in the last
   * LOGIN_THROTTLE_WINDOW, as for registrations: written before the count, a refused one taken back.
   */
  async beginPasskeyOptions(address: string, now: Date): Promise<void> {
    await this.beginPerAddress(
      { account: PASSKEY_OPTIONS_ACCOUNT, prefix: PASSKEY_OPTIONS_ADDRESS_PREFIX },
      { limit: this.env.PASSKEY_OPTIONS_ADDRESS_LIMIT, window: this.window },
      address,
      now,
      (seconds) => new TooManyPasskeySignInsException(seconds),
    );
  }

  /** `limit` requests per address group within `window` seconds, then `refuse` until one leaves it. */
  private async beginPerAddress(
    counter: { account: string; prefix: string },
    budget: { limit: number; window: number },
    address: string,
    now: Date,
    refuse: (retryAfterSeconds: number) => Error,
  ): Promise<void> {
    const key = `${counter.prefix}${addressGroup(address)}`;
    const { limit, window } = budget;
    const id = await this.insertPruning(counter.account, key, now);
    // The limit-th newest of the others: once it leaves the window, one more may register.
    const [row]: { others: number; freed: Date | null }[] = await this.failures.query(
      `SELECT count(*)::int AS others,
              (SELECT failed_at FROM login_failures
                WHERE address = $1 AND id <> $2 AND failed_at > $3
                ORDER BY failed_at DESC OFFSET $4 LIMIT 1) AS freed
         FROM login_failures
        WHERE address = $1 AND id <> $2 AND failed_at > $3`,
      [key, id, this.ago(now, window), limit - 1],
    );
    if (row.others < limit) return;
    await this.failures.delete({ id });
    const seconds = row.freed ? this.secondsUntil(row.freed.getTime() + window * 1000, now) : 1;
    throw refuse(Math.min(Math.max(seconds, 1), window));
  }

  /**
   * The password was right: forget the failures of this account from this address group only,
   * and remember the group as one the owner signs in from.
   */
  async succeeded(attempt: LoginAttempt, now: Date = new Date()): Promise<void> {
    const group = addressGroup(attempt.address);
    await this.failures.delete({ account: attempt.account, address: group });
    await this.failures.query(
      `WITH pruned AS (
         DELETE FROM login_known_addresses WHERE account = $1 AND last_success_at <= $4
       )
       INSERT INTO login_known_addresses (account, address, last_success_at) VALUES ($1, $2, $3)
       ON CONFLICT (account, address) DO UPDATE SET last_success_at = EXCLUDED.last_success_at`,
      [attempt.account, group, now, this.ago(now, KNOWN_ADDRESS_SECONDS)],
    );
  }

  private get window(): number {
    return this.env.LOGIN_THROTTLE_WINDOW;
  }

  private ago(now: Date, seconds: number): Date {
    return new Date(now.getTime() - seconds * 1000);
  }

  private secondsUntil(at: number, now: Date): number {
    return Math.max(Math.ceil((at - now.getTime()) / 1000), 0);
  }

  /** Past the pair's free failures, each attempt waits 10 s, 20 s, 40 s … (at most the window). */
  private pairWait(state: ThrottleState, now: Date): number {
    const free = this.env.LOGIN_PAIR_FAILURE_LIMIT;
    if (state.pair < free || !state.pairLast) return 0;
    const delay = Math.min(PAIR_FIRST_DELAY_SECONDS * 2 ** (state.pair - free), this.window);
    return this.secondsUntil(state.pairLast.getTime() + delay * 1000, now);
  }

  /**
   * Past the account's ceiling, an address group that never signed in gets one attempt per
   * `hour / ceiling` seconds, shared with every other such group: a slower account, never a
   * locked one, and a known group is not slowed at all.
   */
  private accountWait(state: ThrottleState, now: Date): number {
    const ceiling = this.env.LOGIN_ACCOUNT_FAILURE_LIMIT;
    if (state.known || state.account < ceiling || !state.accountLast) return 0;
    const spacing = Math.ceil(ACCOUNT_WINDOW_SECONDS / ceiling);
    return this.secondsUntil(state.accountLast.getTime() + spacing * 1000, now);
  }

  /**
   * Over the address limit: until the limit-th newest failure leaves the window (with exactly
   * `limit` failures, the oldest). At least 1 second, at most the window.
   */
  private async addressWait(state: ThrottleState, group: string, now: Date): Promise<number> {
    const limit = this.env.LOGIN_ADDRESS_FAILURE_LIMIT;
    if (state.address <= limit) return 0;
    const [row]: { failed_at: Date }[] = await this.failures.query(
      `SELECT failed_at FROM login_failures
        WHERE address = $1 AND failed_at > $2
        ORDER BY failed_at DESC OFFSET $3 LIMIT 1`,
      [group, this.ago(now, this.window), limit - 1],
    );
    if (!row) return 1;
    const seconds = this.secondsUntil(row.failed_at.getTime() + this.window * 1000, now);
    return Math.min(Math.max(seconds, 1), this.window);
  }

  /** Inserts the row and, in the same statement, drops the rows that no limit looks at any more. */
  private async insertPruning(account: string, group: string, now: Date): Promise<string> {
    const keep = Math.max(this.window, ACCOUNT_WINDOW_SECONDS, REGISTRATION_WINDOW_SECONDS);
    const rows: { id: string }[] = await this.failures.query(
      `WITH pruned AS (DELETE FROM login_failures WHERE failed_at <= $4)
       INSERT INTO login_failures (account, address, failed_at) VALUES ($1, $2, $3)
       RETURNING id`,
      [account, group, now, this.ago(now, keep)],
    );
    return rows[0].id;
  }

  /** Everything the limits need, in one statement: the pair's and the account's counts exclude this attempt. */
  private async state(
    account: string,
    group: string,
    id: string,
    now: Date,
  ): Promise<ThrottleState> {
    const [row]: {
      pair: number;
      pair_last: Date | null;
      address: number;
      account: number;
      account_last: Date | null;
      known: boolean;
    }[] = await this.failures.query(
      `SELECT count(*) FILTER (WHERE account = $1 AND address = $2 AND id <> $3 AND failed_at > $4)::int AS pair,
              max(failed_at) FILTER (WHERE account = $1 AND address = $2 AND id <> $3 AND failed_at > $4) AS pair_last,
              count(*) FILTER (WHERE address = $2 AND failed_at > $4)::int AS address,
              count(*) FILTER (WHERE account = $1 AND id <> $3 AND failed_at > $5)::int AS account,
              max(failed_at) FILTER (WHERE account = $1 AND id <> $3 AND failed_at > $5) AS account_last,
              EXISTS (SELECT 1 FROM login_known_addresses
                       WHERE account = $1 AND address = $2 AND last_success_at > $6) AS known
         FROM login_failures
        WHERE (account = $1 OR address = $2) AND failed_at > LEAST($4, $5)`,
      [
        account,
        group,
        id,
        this.ago(now, this.window),
        this.ago(now, ACCOUNT_WINDOW_SECONDS),
        this.ago(now, KNOWN_ADDRESS_SECONDS),
      ],
    );
    return {
      pair: row.pair,
      pairLast: row.pair_last,
      address: row.address,
      account: row.account,
      accountLast: row.account_last,
      known: row.known,
    };
  }
}
