import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * OAuth clients. A client id is never UUID-shaped, so a service token's `sub` (its client id)
 * never collides with a user id (I6). The audit log learns new event types here as well.
 *
 * Until the registry (apps/auth-service/registry.json) this migration also seeded the first-party
 * client and resource-service's. Schema migrations now hold schema only: databases made before
 * keep those rows, and the registry, applied at every start-up, creates them on a new database
 * and brings old ones to what it says.
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
