import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The youngest an audit row may be and still be pruned, whatever the service asks. */
const RETENTION_FLOOR_DAYS = 30;

const TYPES_BEFORE = `
  'user.registered', 'login.succeeded', 'login.failed', 'login.throttled',
  'refresh.reuse_detected', 'session.revoked', 'logout', 'password.changed', 'key.rotated',
  'client.authentication_failed', 'token.revoked', 'introspection.denied', 'client.secret_set',
  'client.registered', 'client.updated'`;

/**
 * The audit log against floods and for ever (docs/security-model.md, "The audit log"):
 *
 * - `audit_rate`: per minute and (event type, client address), how many events a stranger caused;
 *   past AUDIT_UNAUTHENTICATED_LIMIT the rows are not written, and once the minute is over the
 *   service appends one `audit.suppressed` row with the count.
 * - `audit_events_prune(keep_days)`: the one way rows leave the log. The append-only trigger lets
 *   a DELETE through only inside this function, and only for rows older than 30 days; UPDATE and
 *   TRUNCATE stay refused, so retention never needs the trigger dropped.
 */
export class AuditFloodAndRetention1763798400920 implements MigrationInterface {
  name = 'AuditFloodAndRetention1763798400920';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_type_known"`);
    await queryRunner.query(`
      ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_type_known" CHECK ("type" IN (
        ${TYPES_BEFORE}, 'audit.suppressed'
      ))`);
    await queryRunner.query(`
      CREATE TABLE "audit_rate" (
        "type" text NOT NULL,
        "client_address" text NOT NULL,
        "minute" timestamptz NOT NULL,
        "seen" integer NOT NULL,
        PRIMARY KEY ("minute", "type", "client_address")
      )`);
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE'
           AND current_setting('tessera.audit_events_prune', true) = 'on'
           AND OLD.occurred_at < now() - make_interval(days => ${RETENTION_FLOOR_DAYS}) THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await queryRunner.query(`
      CREATE FUNCTION "audit_events_prune"(keep_days integer) RETURNS bigint LANGUAGE plpgsql AS $$
      DECLARE
        deleted bigint;
      BEGIN
        IF keep_days IS NULL OR keep_days < ${RETENTION_FLOOR_DAYS} THEN
          RAISE EXCEPTION 'audit_events keeps every row for at least ${RETENTION_FLOOR_DAYS} days, not %', keep_days
            USING ERRCODE = 'insufficient_privilege';
        END IF;
        PERFORM set_config('tessera.audit_events_prune', 'on', true);
        DELETE FROM "audit_events" WHERE "occurred_at" < now() - make_interval(days => keep_days);
        GET DIAGNOSTICS deleted = ROW_COUNT;
        PERFORM set_config('tessera.audit_events_prune', '', true);
        RETURN deleted;
      END
      $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION "audit_events_prune"(integer)`);
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await queryRunner.query(`DROP TABLE "audit_rate"`);
    // NOT VALID: the append-only log keeps the summary rows of the type it loses.
    await queryRunner.query(`ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_type_known"`);
    await queryRunner.query(`
      ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_type_known" CHECK ("type" IN (
        ${TYPES_BEFORE}
      )) NOT VALID`);
  }
}
