import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One row of the revocation log (see the migrations): a session, or every session of a user,
 * ended. The service reads it with SQL of its own (RevocationsService); the entity describes the
 * table.
 */
@Entity({ name: 'revocations' })
export class Revocation {
  /** Handed out at insert: identifies the row, says nothing about commit order. */
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  /**
   * Handed out as the row's transaction commits, in commit order, without gaps: what followers
   * resume from (bigint, so TypeORM reads it as a string). Null only inside that transaction.
   */
  @Column({ type: 'bigint', nullable: true })
  position!: string | null;

  @Column({ type: 'text' })
  kind!: 'session' | 'user';

  /** The user id (`sub` of the access tokens it covers). */
  @Column({ type: 'text' })
  subject!: string;

  @Column({ name: 'session_id', type: 'uuid', nullable: true })
  sessionId!: string | null;

  @Column({ name: 'revoked_at', type: 'timestamptz' })
  revokedAt!: Date;

  /** When no access token the row covers can still be valid; then it is deleted. */
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
