import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A pending sign-in is claimed by the one second-factor submission that checks it
 * (docs/second-factors.md): while `claimed_until` is ahead, another submission for it is refused
 * as for a used one and checks (and spends) nothing. A check that fails lets go at once.
 */
export class PendingSignInClaim1763798403010 implements MigrationInterface {
  name = 'PendingSignInClaim1763798403010';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "mfa_pending_sign_ins" ADD COLUMN "claimed_until" timestamptz`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "mfa_pending_sign_ins" DROP COLUMN "claimed_until"`);
  }
}
