import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const ACCOUNT_TOKEN_PURPOSES = [
  'email_verification',
  'password_reset',
  'email_change',
  'email_change_undo',
] as const;
export type AccountTokenPurpose = (typeof ACCOUNT_TOKEN_PURPOSES)[number];

/**
 * A link sent by mail (AccountLifecycle1763798401110): only its SHA-256 is kept (M5), it works
 * once, until `expiresAt`, and while no newer one of its purpose was issued to the user.
 */
@Entity({ name: 'account_tokens' })
export class AccountToken {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ type: 'text' })
  purpose!: AccountTokenPurpose;

  @Column({ name: 'token_hash', type: 'bytea' })
  tokenHash!: Buffer;

  /** The short verification code's hash (email_verification only). */
  @Column({ name: 'code_hash', type: 'bytea', nullable: true })
  codeHash!: Buffer | null;

  @Column({ name: 'code_attempts', type: 'int', default: 0 })
  codeAttempts!: number;

  /**
   * The address it was sent to: the one being verified, the new one of an email change, or the
   * old one an undo restores.
   */
  @Column({ type: 'text' })
  email!: string;

  /** A reset token: the hash of the password hash it was issued under; another password kills it. */
  @Column({ name: 'password_fingerprint', type: 'bytea', nullable: true })
  passwordFingerprint!: Buffer | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt!: Date | null;
}
