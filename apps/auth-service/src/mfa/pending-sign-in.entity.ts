import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type PendingSignInPurpose = 'tokens' | 'page';

/**
 * A password sign-in that waits for its second factor: what the `mfa_token` stands for. The grant
 * (scope, audiences) was checked at the password step; nothing is issued until the second step.
 */
@Entity({ name: 'mfa_pending_sign_ins' })
export class PendingSignIn {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** SHA-256 of the `mfa_token`; the token itself is never stored. */
  @Column({ name: 'token_hash', type: 'bytea' })
  tokenHash!: Buffer;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ type: 'text' })
  scope!: string;

  @Column({ type: 'text', array: true })
  audiences!: string[];

  /**
   * What the second step finishes: `tokens` (`POST /auth/login/second-factor`) or `page` (the
   * hosted sign-in page's session, `POST /signin/second-factor`). Neither step takes the other's.
   */
  @Column({ type: 'text', default: 'tokens' })
  purpose!: PendingSignInPurpose;

  /**
   * A `page` sign-in's browser: SHA-256 of the value in the cookie PageCookies sets beside the
   * form (null for `tokens`). Only the browser that typed the password can finish it.
   */
  @Column({ name: 'browser_hash', type: 'bytea', nullable: true })
  browserHash!: Buffer | null;

  /** Set while one second-factor submission checks it; another is refused meanwhile. */
  @Column({ name: 'claimed_until', type: 'timestamptz', nullable: true })
  claimedUntil!: Date | null;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
