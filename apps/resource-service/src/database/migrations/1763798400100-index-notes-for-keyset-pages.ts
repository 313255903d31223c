import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GET /notes pages on (created_at, id). With id in the index, a page is one range scan of it,
 * ties on created_at included, instead of a sort of every note sharing a timestamp.
 */
export class IndexNotesForKeysetPages1763798400100 implements MigrationInterface {
  name = 'IndexNotesForKeysetPages1763798400100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "notes_owner_created_id" ON "notes" ("owner_issuer", "owner_subject", "created_at", "id")`,
    );
    // Its prefix of the new index: every query it served, the new one serves.
    await queryRunner.query(`DROP INDEX "notes_owner_created"`);
    // For an admin's ?all=true, across owners.
    await queryRunner.query(`CREATE INDEX "notes_created_id" ON "notes" ("created_at", "id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "notes_created_id"`);
    await queryRunner.query(
      `CREATE INDEX "notes_owner_created" ON "notes" ("owner_issuer", "owner_subject", "created_at")`,
    );
    await queryRunner.query(`DROP INDEX "notes_owner_created_id"`);
  }
}
