import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateUsers1763798400000 implements MigrationInterface {
  name = 'CreateUsers1763798400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "users" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "email" text NOT NULL,
        "password_hash" text NOT NULL,
        "roles" text[] NOT NULL DEFAULT '{user}',
        "disabled_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "users_email_unique" UNIQUE ("email"),
        CONSTRAINT "users_email_normalised" CHECK ("email" = lower(btrim("email")))
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "users"`);
  }
}
