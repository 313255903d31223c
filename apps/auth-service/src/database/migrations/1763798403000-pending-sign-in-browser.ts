import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A hosted page's pending sign-in belongs to the browser that typed the password
 * (docs/second-factors.md): the SHA-256 of a random value that browser holds in a cookie, checked
 * on every second-factor submission. Empty for the JSON flow's `mfa_token`, which has no browser.
 */
export class PendingSignInBrowser1763798403000 implements MigrationInterface {
  name = 'PendingSignInBrowser1763798403000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "mfa_pending_sign_ins" ADD COLUMN "browser_hash" bytea`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "mfa_pending_sign_ins" DROP COLUMN "browser_hash"`);
  }
}
