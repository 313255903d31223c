import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audiences a client's token gets when the request names no `resource` (RFC 8707), always a
 * subset of the audiences it may name; empty for clients made with the `clients` command. The
 * registry sets it for the clients it lists, and the audit log learns the two events of applying
 * the registry. Schema only: the rows themselves come from the registry at start-up.
 */
export class AddClientDefaultAudiences1763798400700 implements MigrationInterface {
  name = 'AddClientDefaultAudiences1763798400700';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "clients"
        ADD COLUMN "default_audiences" text[] NOT NULL DEFAULT '{}',
        ADD CONSTRAINT "clients_default_audiences_allowed" CHECK ("default_audiences" <@ "audiences")`);
    await queryRunner.query(`ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_type_known"`);
    await queryRunner.query(`
      ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_type_known" CHECK ("type" IN (
        'user.registered', 'login.succeeded', 'login.failed', 'login.throttled',
        'refresh.reuse_detected', 'session.revoked', 'logout', 'password.changed', 'key.rotated',
        'client.authentication_failed', 'token.revoked', 'introspection.denied', 'client.secret_set',
        'client.registered', 'client.updated'
      ))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // NOT VALID: the append-only log keeps the rows of the two events it loses.
    await queryRunner.query(`ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_type_known"`);
    await queryRunner.query(`
      ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_type_known" CHECK ("type" IN (
        'user.registered', 'login.succeeded', 'login.failed', 'login.throttled',
        'refresh.reuse_detected', 'session.revoked', 'logout', 'password.changed', 'key.rotated',
        'client.authentication_failed', 'token.revoked', 'introspection.denied', 'client.secret_set'
      )) NOT VALID`);
    await queryRunner.query(`ALTER TABLE "clients" DROP COLUMN "default_audiences"`);
  }
}
