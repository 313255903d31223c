import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The authorization-code flow (docs/oauth.md): clients learn the authorization_code grant, their
 * registered redirect and post-logout URIs and whether they are first-party (no consent page);
 * the hosted pages' browser sessions (the `__Host-` cookie holds a token whose SHA-256 is kept
 * here); the token sessions each browser session produced (so ending it ends them, announced by
 * the sessions trigger like any revocation); the authorization codes, stored as SHA-256 only,
 * bound to client, redirect URI and PKCE challenge; and the consents users gave, per client.
 */
export class AuthorizationCodeFlow1763798401000 implements MigrationInterface {
  name = 'AuthorizationCodeFlow1763798401000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "clients"
        ADD COLUMN "redirect_uris" text[] NOT NULL DEFAULT '{}',
        ADD COLUMN "post_logout_redirect_uris" text[] NOT NULL DEFAULT '{}',
        ADD COLUMN "first_party" boolean NOT NULL DEFAULT false,
        DROP CONSTRAINT "clients_grants_known",
        ADD CONSTRAINT "clients_grants_known"
          CHECK ("grant_types" <@ ARRAY['authorization_code', 'refresh_token', 'client_credentials']::text[])`);
    await queryRunner.query(`
      CREATE TABLE "browser_sessions" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
        "token_hash" bytea NOT NULL,
        "auth_time" timestamptz NOT NULL,
        "expires_at" timestamptz NOT NULL,
        "ended_at" timestamptz,
        "user_agent" text,
        "client_address" text,
        CONSTRAINT "browser_sessions_token_hash_unique" UNIQUE ("token_hash"),
        CONSTRAINT "browser_sessions_token_hash_sha256" CHECK (octet_length("token_hash") = 32)
      )`);
    await queryRunner.query(
      `CREATE INDEX "browser_sessions_user_id" ON "browser_sessions" ("user_id")`,
    );
    await queryRunner.query(`
      ALTER TABLE "sessions"
        ADD COLUMN "browser_session_id" uuid REFERENCES "browser_sessions" ("id") ON DELETE SET NULL`);
    await queryRunner.query(`
      CREATE INDEX "sessions_browser_session_id" ON "sessions" ("browser_session_id")
        WHERE "browser_session_id" IS NOT NULL`);
    await queryRunner.query(`
      CREATE TABLE "authorization_codes" (
        "code_hash" bytea PRIMARY KEY,
        "client_id" text NOT NULL,
        "user_id" uuid NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
        "browser_session_id" uuid REFERENCES "browser_sessions" ("id") ON DELETE CASCADE,
        "redirect_uri" text NOT NULL,
        "code_challenge" text NOT NULL,
        "scope" text NOT NULL,
        "audiences" text[] NOT NULL,
        "nonce" text,
        "auth_time" timestamptz NOT NULL,
        "expires_at" timestamptz NOT NULL,
        "used_at" timestamptz,
        "replayed_at" timestamptz,
        "session_id" uuid REFERENCES "sessions" ("id") ON DELETE SET NULL,
        CONSTRAINT "authorization_codes_code_hash_sha256" CHECK (octet_length("code_hash") = 32)
      )`);
    await queryRunner.query(
      `CREATE INDEX "authorization_codes_expires_at" ON "authorization_codes" ("expires_at")`,
    );
    await queryRunner.query(`
      CREATE TABLE "consents" (
        "user_id" uuid NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
        "client_id" text NOT NULL REFERENCES "clients" ("id") ON DELETE CASCADE,
        "scopes" text[] NOT NULL,
        "granted_at" timestamptz NOT NULL,
        PRIMARY KEY ("user_id", "client_id")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "consents"`);
    await queryRunner.query(`DROP TABLE "authorization_codes"`);
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "browser_session_id"`);
    await queryRunner.query(`DROP TABLE "browser_sessions"`);
    await queryRunner.query(`
      ALTER TABLE "clients"
        DROP CONSTRAINT "clients_grants_known",
        ADD CONSTRAINT "clients_grants_known"
          CHECK ("grant_types" <@ ARRAY['refresh_token', 'client_credentials']::text[]) NOT VALID,
        DROP COLUMN "first_party",
        DROP COLUMN "post_logout_redirect_uris",
        DROP COLUMN "redirect_uris"`);
  }
}
