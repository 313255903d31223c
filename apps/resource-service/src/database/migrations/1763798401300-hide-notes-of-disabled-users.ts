import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A note is hidden once its owner's account is disabled (auth-service's `user.disabled` event,
 * when the service follows the events stream): hidden notes are in no list and no read.
 */
export class HideNotesOfDisabledUsers1763798401300 implements MigrationInterface {
  name = 'HideNotesOfDisabledUsers1763798401300';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "notes" ADD "hidden_at" timestamptz`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "notes" DROP COLUMN "hidden_at"`);
  }
}
