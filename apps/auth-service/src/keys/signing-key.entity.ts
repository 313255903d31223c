import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { SigningAlgorithm } from './signing-algorithm';
import type { PublicJwk } from './signing-key-pair';

/**
 * A key that signs access tokens. The private part is stored encrypted (KeyEncryption, with the
 * kid as associated data); the public part is what the JWKS publishes.
 */
@Entity({ name: 'signing_keys' })
export class SigningKey {
  /** RFC 7638 JWK thumbprint of the public key. */
  @PrimaryColumn({ type: 'text' })
  kid!: string;

  @Column({ type: 'text' })
  algorithm!: SigningAlgorithm;

  /** Public members only (`kty`, `crv`, `x`, `y` or `kty`, `n`, `e`); a CHECK refuses others. */
  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk!: PublicJwk;

  /** `KeyEncryption.encrypt(<PKCS#8 PEM>, kid)`; never the plaintext. */
  @Column({ name: 'private_key', type: 'text' })
  privateKey!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** When it starts signing; published in the JWKS from creation. */
  @Column({ name: 'activates_at', type: 'timestamptz' })
  activatesAt!: Date;

  /**
   * When its successor starts signing. Written when the successor is created, because that
   * moment is fixed then: null while no successor exists, possibly in the future while one is
   * pending.
   */
  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true })
  retiredAt!: Date | null;

  /**
   * When it leaves the JWKS: retired_at + max(ACCESS_TOKEN_TTL, SERVICE_TOKEN_TTL) + 60 s leeway.
   * Null while signing.
   */
  @Column({ name: 'published_until', type: 'timestamptz', nullable: true })
  publishedUntil!: Date | null;
}
