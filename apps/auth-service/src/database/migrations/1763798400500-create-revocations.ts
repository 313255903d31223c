import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The revocation log that resource services follow (GET /revocations): one row whenever a
 * session ends, written by a trigger so that no code path (logout, logout-all, reuse detection,
 * password change, revocation, disabled user, an admin's SQL) can end a session unannounced; and
 * a user-wide row when every session of a user ends. Rows are ordered by `id`, which a follower
 * resumes from; they are deleted once no access token they cover can still be valid.
 */
export class CreateRevocations1763798400500 implements MigrationInterface {
  name = 'CreateRevocations1763798400500';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "revocations" (
        "id" bigserial PRIMARY KEY,
        "kind" text NOT NULL,
        "subject" text NOT NULL,
        "session_id" uuid,
        "revoked_at" timestamptz NOT NULL,
        CONSTRAINT "revocations_kind_known" CHECK ("kind" IN ('session', 'user')),
        CONSTRAINT "revocations_session_has_id" CHECK (("kind" = 'session') = ("session_id" IS NOT NULL))
      )`);
    await queryRunner.query(
      `CREATE INDEX "revocations_revoked_at" ON "revocations" ("revoked_at")`,
    );
    await queryRunner.query(`
      CREATE FUNCTION "sessions_announce_revocation"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO "revocations" ("kind", "subject", "session_id", "revoked_at")
        VALUES ('session', NEW."user_id"::text, NEW."id", NEW."revoked_at");
        RETURN NEW;
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER "sessions_announce_revocation"
      AFTER UPDATE OF "revoked_at" ON "sessions"
      FOR EACH ROW WHEN (OLD."revoked_at" IS NULL AND NEW."revoked_at" IS NOT NULL)
      EXECUTE FUNCTION "sessions_announce_revocation"()`);
    await queryRunner.query(`
      UPDATE "clients" SET "scopes" = ARRAY['tokens:introspect', 'revocations:read']
       WHERE "id" = 'resource-service'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "sessions_announce_revocation" ON "sessions"`);
    await queryRunner.query(`DROP FUNCTION "sessions_announce_revocation"()`);
    await queryRunner.query(`DROP TABLE "revocations"`);
  }
}
