import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One row of the revocation log (see the migration): a session, or every session of a user, ended. */
@Entity({ name: 'revocations' })
export class Revocation {
  /** bigint, so TypeORM reads it as a string; followers resume from it. */
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'text' })
  kind!: 'session' | 'user';

  /** The user id (`sub` of the access tokens it covers). */
  @Column({ type: 'text' })
  subject!: string;

  @Column({ name: 'session_id', type: 'uuid', nullable: true })
  sessionId!: string | null;

  @Column({ name: 'revoked_at', type: 'timestamptz' })
  revokedAt!: Date;
}
