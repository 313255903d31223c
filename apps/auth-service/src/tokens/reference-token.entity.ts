import type { AccessTokenClaims } from '@tessera/auth-token';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A reference access token (ACCESS_TOKEN_FORMAT=reference): the claims a JWT would carry, under
 * the SHA-256 of the opaque token a client holds. The database keeps no token and no signature:
 * its rows alone authorize nothing. The JWT is signed only when the gateway swaps the reference
 * for it (phantom tokens, docs/adr/0012-gateway-at-the-edge.md).
 */
@Entity({ name: 'reference_tokens' })
export class ReferenceToken {
  @PrimaryColumn({ name: 'token_hash', type: 'bytea' })
  tokenHash!: Buffer;

  /** The session it belongs to: its revocation (or deletion) ends the reference too. */
  @Column({ name: 'session_id', type: 'uuid' })
  sessionId!: string;

  @Column({ type: 'jsonb' })
  claims!: AccessTokenClaims;

  /** `claims.exp`, as a column the lookup and the pruning compare. */
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
