import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * OAuth clients, with the two every installation needs: Tessera's own front ends (public: they
 * keep no secret, and use /auth/login and the refresh grant) and resource-service (confidential:
 * client credentials, to call auth-service as itself). No secret is seeded: a confidential client
 * works once one is set, by CLIENT_SECRETS or the `clients` command. A client id is never
 * UUID-shaped, so a service token's `sub` (its client id) never collides with a user id (I6).
 * The audit log learns new event types here as well.
 */
export class CreateClients1763798400400 implements MigrationInterface {
  name = 'CreateClients1763798400400';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "clients" (
        "id" text PRIMARY KEY,
        "type" text NOT NULL,
        "secret_hash" bytea,
        "grant_types" text[] NOT NULL,
        "scopes" text[] NOT NULL,
        "audiences" text[] NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "clients_id_format" CHECK ("id" ~ '^[a-z][a-z0-9._-]{1,63}$'),
        CONSTRAINT "clients_type_known" CHECK ("type" IN ('public', 'confidential')),
        CONSTRAINT "clients_public_without_secret" CHECK ("type" = 'confidential' OR "secret_hash" IS NULL),
        CONSTRAINT "clients_grants_known" CHECK ("grant_types" <@ ARRAY['refresh_token', 'client_credentials']::text[])
      )`);
    await queryRunner.query(`
      INSERT INTO "clients" ("id", "type", "grant_types", "scopes", "audiences") VALUES
        ('tessera-first-party', 'public', ARRAY['refresh_token'],
         ARRAY['openid', 'email', 'notes:read', 'notes:write'], ARRAY['resource-service']),
        ('resource-service', 'confidential', ARRAY['client_credentials'],
         ARRAY['tokens:introspect'], ARRAY['auth-service'])`);
    await queryRunner.query(`ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_type_known"`);
    await queryRunner.query(`
      ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_type_known" CHECK ("type" IN (
        'user.registered', 'login.succeeded', 'login.failed', 'login.throttled',
        'refresh.reuse_detected', 'session.revoked', 'logout', 'password.changed', 'key.rotated',
        'client.authentication_failed', 'token.revoked', 'introspection.denied', 'client.secret_set'
      ))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "clients"`);
  }
}
