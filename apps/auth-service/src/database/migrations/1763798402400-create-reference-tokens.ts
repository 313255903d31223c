import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reference access tokens (ACCESS_TOKEN_FORMAT=reference, the phantom-token mode of
 * docs/adr/0012-gateway-at-the-edge.md): the SHA-256 of each opaque token with the claims it
 * stands for, until it expires. Deleting a session deletes its references.
 */
export class CreateReferenceTokens1763798402400 implements MigrationInterface {
  name = 'CreateReferenceTokens1763798402400';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "reference_tokens" (
        "token_hash" bytea PRIMARY KEY CHECK (octet_length("token_hash") = 32),
        "session_id" uuid NOT NULL REFERENCES "sessions" ("id") ON DELETE CASCADE,
        "claims" jsonb NOT NULL,
        "expires_at" timestamptz NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX "reference_tokens_session" ON "reference_tokens" ("session_id", "expires_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "reference_tokens"`);
  }
}
