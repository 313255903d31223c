import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signing keys for access tokens. A key's life is fixed by three moments written when it (or its
 * successor) is created, so every instance of auth-service agrees on it without coordination:
 * `activates_at` (starts signing), `retired_at` (its successor starts signing) and
 * `published_until` (leaves the JWKS: retired_at + ACCESS_TOKEN_TTL + 60 s).
 */
export class CreateSigningKeys1763798400100 implements MigrationInterface {
  name = 'CreateSigningKeys1763798400100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "signing_keys" (
        "kid" text PRIMARY KEY,
        "algorithm" text NOT NULL,
        "public_jwk" jsonb NOT NULL,
        "private_key" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "activates_at" timestamptz NOT NULL,
        "retired_at" timestamptz,
        "published_until" timestamptz,
        CONSTRAINT "signing_keys_algorithm_known" CHECK ("algorithm" IN ('ES256', 'RS256')),
        CONSTRAINT "signing_keys_public_only" CHECK (
          NOT ("public_jwk" ?| ARRAY['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'])
        ),
        CONSTRAINT "signing_keys_private_key_encrypted" CHECK ("private_key" LIKE 'v1.%'),
        CONSTRAINT "signing_keys_retired_after_activation" CHECK (
          "retired_at" IS NULL OR "retired_at" >= "activates_at"
        ),
        CONSTRAINT "signing_keys_published_until_retired" CHECK (
          ("retired_at" IS NULL) = ("published_until" IS NULL)
          AND ("published_until" IS NULL OR "published_until" > "retired_at")
        )
      )`);
    await queryRunner.query(
      `CREATE INDEX "signing_keys_published_until" ON "signing_keys" ("published_until")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "signing_keys"`);
  }
}
