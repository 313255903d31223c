import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sessions (refresh-token families) and their refresh tokens. Only SHA-256 hashes of tokens are
 * stored. `refresh_tokens.parent_id` is unique, so however many refreshes of one token race, the
 * token gets at most one successor (checklist F3).
 */
export class CreateSessions1763798400300 implements MigrationInterface {
  name = 'CreateSessions1763798400300';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "sessions" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
        "client_id" text NOT NULL,
        "scope" text NOT NULL,
        "created_at" timestamptz NOT NULL,
        "last_used_at" timestamptz NOT NULL,
        "idle_expires_at" timestamptz NOT NULL,
        "absolute_expires_at" timestamptz NOT NULL,
        "revoked_at" timestamptz,
        "revoked_reason" text,
        "user_agent" text,
        "client_address" text,
        CONSTRAINT "sessions_idle_within_absolute" CHECK ("idle_expires_at" <= "absolute_expires_at"),
        CONSTRAINT "sessions_revoked_with_reason" CHECK (("revoked_at" IS NULL) = ("revoked_reason" IS NULL)),
        CONSTRAINT "sessions_revoked_reason_known" CHECK ("revoked_reason" IN (
          'logout', 'logout_all', 'reuse_detected', 'password_changed', 'user_disabled', 'admin', 'revoked'
        ))
      )`);
    // listForUser, revokeAllForUser, and the cascade when a user is deleted.
    await queryRunner.query(`CREATE INDEX "sessions_user_id" ON "sessions" ("user_id")`);

    await queryRunner.query(`
      CREATE TABLE "refresh_tokens" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "session_id" uuid NOT NULL REFERENCES "sessions" ("id") ON DELETE CASCADE,
        "token_hash" bytea NOT NULL,
        "parent_id" uuid REFERENCES "refresh_tokens" ("id") ON DELETE SET NULL,
        "created_at" timestamptz NOT NULL,
        "used_at" timestamptz,
        CONSTRAINT "refresh_tokens_token_hash_unique" UNIQUE ("token_hash"),
        CONSTRAINT "refresh_tokens_one_successor" UNIQUE ("parent_id"),
        CONSTRAINT "refresh_tokens_token_hash_sha256" CHECK (octet_length("token_hash") = 32)
      )`);
    // The cascade when a session is deleted; token lookups use the unique index on token_hash.
    await queryRunner.query(
      `CREATE INDEX "refresh_tokens_session_id" ON "refresh_tokens" ("session_id")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "refresh_tokens"`);
    await queryRunner.query(`DROP TABLE "sessions"`);
  }
}
