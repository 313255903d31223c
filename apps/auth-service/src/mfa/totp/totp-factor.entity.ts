import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A user's TOTP authenticator (RFC 6238): at most one, usable once confirmed with a first code. */
@Entity({ name: 'totp_factors' })
export class TotpFactor {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId!: string;

  /** The base32 secret, encrypted like the signing keys (KeyEncryption, bound to the user id). */
  @Column({ name: 'secret_encrypted', type: 'text' })
  secretEncrypted!: string;

  /** Null while enrolment waits for its first code. */
  @Column({ name: 'confirmed_at', type: 'timestamptz', nullable: true })
  confirmedAt!: Date | null;

  /** The time step of the last code accepted: a code of that step or before never works again. */
  @Column({ name: 'last_used_step', type: 'bigint', nullable: true })
  lastUsedStep!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
