import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log is append-only in the database itself, so neither a bug nor a stray query of the
 * service can rewrite history. (The table owner could still drop the trigger: for tamper evidence
 * against a database administrator, ship the rows to a separate store as well.)
 */
export class CreateAuditEvents1763798400210 implements MigrationInterface {
  name = 'CreateAuditEvents1763798400210';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "audit_events" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "occurred_at" timestamptz NOT NULL DEFAULT now(),
        "type" text NOT NULL,
        "user_id" uuid,
        "session_id" uuid,
        "client_address" text,
        "user_agent" text,
        "detail" jsonb,
        CONSTRAINT "audit_events_type_known" CHECK ("type" IN (
          'user.registered', 'login.succeeded', 'login.failed', 'login.throttled',
          'refresh.reuse_detected', 'session.revoked', 'logout', 'password.changed', 'key.rotated'
        ))
      )`);
    await queryRunner.query(
      `CREATE INDEX "audit_events_user_id_occurred_at" ON "audit_events" ("user_id", "occurred_at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "audit_events_occurred_at" ON "audit_events" ("occurred_at")`,
    );
    await queryRunner.query(`
      CREATE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER "audit_events_no_update_or_delete"
        BEFORE UPDATE OR DELETE ON "audit_events"
        FOR EACH ROW EXECUTE FUNCTION "audit_events_append_only"()`);
    await queryRunner.query(`
      CREATE TRIGGER "audit_events_no_truncate"
        BEFORE TRUNCATE ON "audit_events"
        FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_append_only"()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "audit_events"`);
    await queryRunner.query(`DROP FUNCTION "audit_events_append_only"()`);
  }
}
