import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateNotes1763798400000 implements MigrationInterface {
  name = 'CreateNotes1763798400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "notes" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "owner_issuer" text NOT NULL,
        "owner_subject" text NOT NULL,
        "title" varchar(200) NOT NULL,
        "body" text NOT NULL DEFAULT '',
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX "notes_owner_created" ON "notes" ("owner_issuer", "owner_subject", "created_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "notes"`);
  }
}
