import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A WebAuthn challenge handed out and not yet answered: single-use, short-lived. */
@Entity({ name: 'webauthn_challenges' })
export class WebAuthnChallenge {
  /** base64url, as it comes back in clientDataJSON. */
  @PrimaryColumn({ type: 'text' })
  challenge!: string;

  @Column({ type: 'text' })
  purpose!: 'registration' | 'authentication';

  /** The user it was issued to; null for a passwordless sign-in, where nobody is known yet. */
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId!: string | null;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
