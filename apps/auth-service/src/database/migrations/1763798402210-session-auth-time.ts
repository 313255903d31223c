import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When the user authenticated for a session, if not when it started: a session of the
 * authorization-code flow starts at the code's exchange, but its sign-in happened on the hosted
 * page, maybe hours before. Access tokens say that time as `auth_time`, so `max_age` (RFC 9470)
 * is judged on the sign-in. NULL (every other session): `created_at`.
 */
export class SessionAuthTime1763798402210 implements MigrationInterface {
  name = 'SessionAuthTime1763798402210';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" ADD COLUMN "auth_time" timestamptz`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "auth_time"`);
  }
}
