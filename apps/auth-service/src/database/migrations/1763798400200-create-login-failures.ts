import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateLoginFailures1763798400200 implements MigrationInterface {
  name = 'CreateLoginFailures1763798400200';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "login_failures" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "account" text NOT NULL,
        "address" text NOT NULL,
        "failed_at" timestamptz NOT NULL
      )`);
    // One index per question the throttle asks: failures of an account, of an address, and
    // which rows have left the window.
    await queryRunner.query(
      `CREATE INDEX "login_failures_account_failed_at" ON "login_failures" ("account", "failed_at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "login_failures_address_failed_at" ON "login_failures" ("address", "failed_at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "login_failures_failed_at" ON "login_failures" ("failed_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "login_failures"`);
  }
}
