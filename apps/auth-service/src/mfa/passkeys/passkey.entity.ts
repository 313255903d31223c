import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A WebAuthn credential of a user's: its public key and the signature counter last seen. */
@Entity({ name: 'passkeys' })
export class Passkey {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  /** base64url, as the browser reports it. */
  @Column({ name: 'credential_id', type: 'text', unique: true })
  credentialId!: string;

  /** COSE public key. */
  @Column({ name: 'public_key', type: 'bytea' })
  publicKey!: Buffer;

  /** The authenticator's signature counter; 0 for authenticators that keep none (most passkeys). */
  @Column({ type: 'bigint' })
  counter!: string;

  @Column({ type: 'text', array: true })
  transports!: string[];

  @Column({ type: 'text' })
  name!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;
}
