import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The service's own database role may only read and append to `audit_events` (DatabaseOptions
 * `appendOnly`, docs/security-model.md "Database roles"), so the one way rows leave the log,
 * `audit_events_prune`, runs with its owner's rights: SECURITY DEFINER, with a fixed search path
 * so that no object of the caller's can stand in for the table. Only the roles the platform grants
 * it to may call it; its own limits (30 days at least) stay as they were.
 */
export class AuditPruningAsOwner1763798400950 implements MigrationInterface {
  name = 'AuditPruningAsOwner1763798400950';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER FUNCTION "audit_events_prune"(integer) SECURITY DEFINER SET search_path = public, pg_temp`,
    );
    await queryRunner.query(`REVOKE EXECUTE ON FUNCTION "audit_events_prune"(integer) FROM PUBLIC`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`GRANT EXECUTE ON FUNCTION "audit_events_prune"(integer) TO PUBLIC`);
    await queryRunner.query(
      `ALTER FUNCTION "audit_events_prune"(integer) SECURITY INVOKER RESET search_path`,
    );
  }
}
