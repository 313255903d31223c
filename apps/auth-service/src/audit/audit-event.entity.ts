import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Every security event worth an investigator's time (checklist O5). */
export const AUDIT_EVENT_TYPES = [
  'user.registered',
  'login.succeeded',
  'login.failed',
  'login.throttled',
  'refresh.reuse_detected',
  'session.revoked',
  'logout',
  'password.changed',
  'key.rotated',
  'client.authentication_failed',
  'token.revoked',
  'introspection.denied',
  'client.secret_set',
  'client.registered',
  'client.updated',
  /** Second factors (detail.method: totp, recovery_code, passkey): docs/second-factors.md. */
  'mfa.enrolled',
  'mfa.verified',
  'mfa.failed',
  'mfa.locked',
  'mfa.removed',
  'mfa.recovery_codes_generated',
  /** Account lifecycle (docs/account-lifecycle.md). */
  'email.verification_sent',
  'email.verified',
  'password.reset_requested',
  'password.reset',
  'email.change_requested',
  'email.changed',
  'email.change_undone',
  /** A verification, reset or email-change link or code that was not live. */
  'account.token_refused',
  /** The events of one minute, type and address left out past AUDIT_UNAUTHENTICATED_LIMIT. */
  'audit.suppressed',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** Plain values only: the detail of an event is for people to read, never a secret. */
export type AuditDetail = Record<string, string | number | boolean | null>;

/**
 * One row of the append-only audit log: a database trigger refuses UPDATE, DELETE and TRUNCATE.
 * No foreign keys: the log must outlive the users and sessions it mentions.
 */
@Entity({ name: 'audit_events' })
export class AuditEvent {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @CreateDateColumn({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ type: 'text' })
  type!: AuditEventType;

  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId!: string | null;

  @Column({ name: 'session_id', type: 'uuid', nullable: true })
  sessionId!: string | null;

  @Column({ name: 'client_address', type: 'text', nullable: true })
  clientAddress!: string | null;

  @Column({ name: 'user_agent', type: 'text', nullable: true })
  userAgent!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  detail!: AuditDetail | null;
}
