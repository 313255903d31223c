import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each session remembers the audiences it was granted (RFC 8707 `resource` at login, or the
 * client's default audiences): a refresh may narrow them, never widen them. Sessions from before
 * this migration had tokens for every audience of their client, so that is what they keep.
 */
export class AddSessionAudiences1763798400800 implements MigrationInterface {
  name = 'AddSessionAudiences1763798400800';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "sessions" ADD COLUMN "audiences" text[] NOT NULL DEFAULT '{}'`,
    );
    await queryRunner.query(`
      UPDATE "sessions" SET "audiences" = "clients"."audiences"
        FROM "clients" WHERE "clients"."id" = "sessions"."client_id"`);
    await queryRunner.query(`ALTER TABLE "sessions" ALTER COLUMN "audiences" DROP DEFAULT`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "audiences"`);
  }
}
