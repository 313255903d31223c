import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Why a session ended; a CHECK in the migration refuses any other value. */
export const SESSION_REVOCATION_REASONS = [
  'logout',
  'logout_all',
  'reuse_detected',
  'password_changed',
  'user_disabled',
  'admin',
  'revoked',
] as const;

export type SessionRevocationReason = (typeof SESSION_REVOCATION_REASONS)[number];

/**
 * A refresh-token family: one login on one client. Every refresh rotates its token; revoking the
 * session ends all of them at once. Times come from the injected Clock, not from column defaults,
 * so tests can move them.
 */
@Entity({ name: 'sessions' })
export class Session {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  /** The client the refresh tokens were issued to; they work for no other (checklist F5). */
  @Column({ name: 'client_id', type: 'text' })
  clientId!: string;

  /** Space-separated scopes granted at login; a refresh can narrow them, never widen them. */
  @Column({ type: 'text' })
  scope!: string;

  /**
   * The audiences (`aud`) granted at login (RFC 8707 `resource`, or the client's default ones);
   * a refresh can narrow them, never widen them.
   */
  @Column({ type: 'text', array: true })
  audiences!: string[];

  /**
   * RFC 8176 methods the sign-in used (`pwd`, `otp`, `hwk`, `user`, `mfa`): every access token of
   * the session carries them as `amr`, with the `acr` they reach and `auth_time`.
   */
  @Column({ type: 'text', array: true, default: () => "'{pwd}'" })
  amr!: string[];

  /**
   * When the user authenticated, if before the session started (the hosted page's sign-in of an
   * authorization-code session); null: at `createdAt`. Access tokens carry it as `auth_time`.
   */
  @Column({ name: 'auth_time', type: 'timestamptz', nullable: true })
  authTime!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** The last rotation (or the login). */
  @Column({ name: 'last_used_at', type: 'timestamptz' })
  lastUsedAt!: Date;

  /** Slides forward on every rotation, never past `absoluteExpiresAt`. */
  @Column({ name: 'idle_expires_at', type: 'timestamptz' })
  idleExpiresAt!: Date;

  /** Fixed at login: SESSION_ABSOLUTE_TTL later, however often the session is refreshed. */
  @Column({ name: 'absolute_expires_at', type: 'timestamptz' })
  absoluteExpiresAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'revoked_reason', type: 'text', nullable: true })
  revokedReason!: SessionRevocationReason | null;

  @Column({ name: 'user_agent', type: 'text', nullable: true })
  userAgent!: string | null;

  @Column({ name: 'client_address', type: 'text', nullable: true })
  clientAddress!: string | null;
}
