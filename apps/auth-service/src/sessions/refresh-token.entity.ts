import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One refresh token of a session. Only the SHA-256 of the token is stored (checklist I8): the
 * database alone cannot refresh anything.
 */
@Entity({ name: 'refresh_tokens' })
export class RefreshToken {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'session_id', type: 'uuid' })
  sessionId!: string;

  /** SHA-256 of the token's base64url text; unique. */
  @Column({ name: 'token_hash', type: 'bytea' })
  tokenHash!: Buffer;

  /**
   * The token this one replaced; null for the token issued at login. Unique, so a token can have
   * at most one successor whatever the concurrency (checklist F3).
   */
  @Column({ name: 'parent_id', type: 'uuid', nullable: true })
  parentId!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** When it was spent on a rotation; null while it is the session's live token. */
  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt!: Date | null;
}
