import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The second factor on the hosted pages (docs/second-factors.md): a browser session and the
 * authorization codes it issues remember the methods (`amr`) its sign-in used, so the tokens of
 * the code flow carry them; a pending sign-in says whether it waits to issue tokens
 * (`POST /auth/login/second-factor`) or to start a page session (`POST /signin/second-factor`),
 * and neither can finish the other.
 */
export class SecondFactorOnPages1763798402200 implements MigrationInterface {
  name = 'SecondFactorOnPages1763798402200';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "browser_sessions" ADD COLUMN "amr" text[] NOT NULL DEFAULT '{pwd}'`,
    );
    await queryRunner.query(
      `ALTER TABLE "authorization_codes" ADD COLUMN "amr" text[] NOT NULL DEFAULT '{pwd}'`,
    );
    await queryRunner.query(
      `ALTER TABLE "mfa_pending_sign_ins" ADD COLUMN "purpose" text NOT NULL DEFAULT 'tokens'
         CONSTRAINT "mfa_pending_sign_ins_purpose_known" CHECK ("purpose" IN ('tokens', 'page'))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "mfa_pending_sign_ins" DROP COLUMN "purpose"`);
    await queryRunner.query(`ALTER TABLE "authorization_codes" DROP COLUMN "amr"`);
    await queryRunner.query(`ALTER TABLE "browser_sessions" DROP COLUMN "amr"`);
  }
}
