import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Clock } from '@tessera/auth-token';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { LessThan, Repository } from 'typeorm';
import { InvalidMfaTokenException } from './mfa.errors';
import { PendingSignIn } from './pending-sign-in.entity';
import type { PendingSignInPurpose } from './pending-sign-in.entity';

/** Seconds an `mfa_token` lives: long enough to open an authenticator app, no longer. */
export const MFA_PENDING_TTL = 300;
/**
 * Seconds a second-factor check holds its pending sign-in: far longer than a check takes, so a
 * process that dies mid-check leaves the sign-in usable again soon after.
 */
export const CLAIM_SECONDS = 60;

/** What the password step granted, for the second step to issue. */
export interface PendingGrant {
  userId: string;
  scope: string;
  audiences: readonly string[];
}

/**
 * The `mfa_token` between the password and the second factor: 256 random bits, stored hashed,
 * MFA_PENDING_TTL seconds, spent by the sign-in it completes (a second use finds nothing).
 */
@Injectable()
export class PendingSignInsService {
  constructor(
    @InjectRepository(PendingSignIn) private readonly pending: Repository<PendingSignIn>,
    private readonly clock: Clock,
  ) {}

  /**
   * @param browser for a hosted page's sign-in: the value of the browser's pending-sign-in cookie
   *   (see `browserSecret`), which every second step must bring back
   * @returns the `mfa_token` to hand to the client (or to put in the hosted page's form)
   */
  async create(
    grant: PendingGrant,
    purpose: PendingSignInPurpose = 'tokens',
    browser?: string,
  ): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    await this.pending.delete({ userId: grant.userId, expiresAt: LessThan(now) });
    await this.pending.insert({
      tokenHash: hashOf(token),
      userId: grant.userId,
      scope: grant.scope,
      audiences: [...grant.audiences],
      purpose,
      browserHash: browser === undefined ? null : hashOf(browser),
      expiresAt: new Date(now.getTime() + MFA_PENDING_TTL * 1000),
    });
    return token;
  }

  /** The live pending sign-in of `token` for `purpose`, left in place (a wrong code may be retried). */
  async find(
    token: string,
    purpose: PendingSignInPurpose = 'tokens',
  ): Promise<PendingSignIn | null> {
    const row = await this.pending.findOneBy({ tokenHash: hashOf(token), purpose });
    return row && row.expiresAt > this.clock.now() ? row : null;
  }

  /** Whether `browser` (the cookie's value, if any) is the one the pending sign-in was bound to. */
  isBoundTo(pending: PendingSignIn, browser: string | undefined): boolean {
    return (
      pending.browserHash !== null &&
      browser !== undefined &&
      timingSafeEqual(pending.browserHash, hashOf(browser))
    );
  }

  /**
   * Finishes the pending sign-in `id` with `check` (its second factor), one submission at a time:
   * it claims the row first, so of two concurrent submissions, right or wrong, one checks and the
   * other is refused as for a used token, having checked (and spent) nothing: two right proofs
   * never make two sign-ins, nor spend a recovery code for a sign-in the other finished. A check
   * that succeeds spends the row; one that throws lets go of it (a wrong code may be retried).
   * @throws InvalidMfaTokenException (401) when another submission holds or has spent it
   */
  async complete<T>(id: string, check: () => Promise<T>): Promise<T> {
    if (!(await this.claim(id))) throw new InvalidMfaTokenException();
    let checked: T;
    try {
      checked = await check();
    } catch (error) {
      await this.pending.update({ id }, { claimedUntil: null });
      throw error;
    }
    // Ended meanwhile (a password change ends pending sign-ins): nothing to finish.
    if (((await this.pending.delete({ id })).affected ?? 0) !== 1)
      throw new InvalidMfaTokenException();
    return checked;
  }

  private async claim(id: string): Promise<boolean> {
    const now = this.clock.now();
    const claimed: unknown[] = await this.pending.query(
      `WITH claimed AS (
         UPDATE mfa_pending_sign_ins SET claimed_until = $3
          WHERE id = $1 AND expires_at > $2 AND (claimed_until IS NULL OR claimed_until <= $2)
         RETURNING id
       )
       SELECT id FROM claimed`,
      [id, now, new Date(now.getTime() + CLAIM_SECONDS * 1000)],
    );
    return claimed.length === 1;
  }
}

/** A new value for the cookie that binds a hosted page's pending sign-in to its browser: 256 random bits. */
export function browserSecret(): string {
  return randomBytes(32).toString('base64url');
}

function hashOf(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
