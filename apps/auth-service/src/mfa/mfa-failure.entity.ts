import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One wrong second factor of a user's, counted by MfaLockout. */
@Entity({ name: 'mfa_failures' })
export class MfaFailure {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ name: 'failed_at', type: 'timestamptz' })
  failedAt!: Date;
}
