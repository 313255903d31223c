import type { MigrationInterface, QueryRunner } from 'typeorm';

/** ACCESS_TOKEN_TTL's upper bound: how long a revocation is kept before any lifetime is known. */
const LONGEST_ACCESS_TOKEN_TTL_SECONDS = 3600;
/** The largest leeway a verifier may allow past `exp` (R17). */
const VERIFIER_LEEWAY_SECONDS = 60;

/**
 * The revocation log in commit order, every ended session in it, each row kept as long as the
 * tokens it covers (docs/adr/0009-revocation-feed.md):
 *
 * - `revocations.position`: what followers resume from. A row gets it as its transaction
 *   commits: a deferred trigger, the last thing the transaction does, increments the one row of
 *   `revocation_log`, whose lock then serialises the revoking transactions until their commit.
 *   So positions are handed out in commit order: once a reader sees a position, every lower one
 *   is visible too, and a transaction that rolls back leaves no gap. The row ids, handed out at
 *   insert, were not: a row committed late could land below a follower's last id and be missed.
 * - `revocation_log.resume_from`: a follower whose last position is below it may have missed rows
 *   that were pruned, and gets the full list instead (an `event: reset`). Rows written before this
 *   migration were numbered at insert, so their followers resynchronise once.
 * - `revocations.expires_at`: until when a token the row covers can still be valid, computed at
 *   revocation from `access_token_lifetimes`, the ACCESS_TOKEN_TTL each auth-service instance ran
 *   with and until when it could issue tokens with it. Lowering ACCESS_TOKEN_TTL no longer
 *   forgets revocations while tokens issued before the change still live.
 * - A session deleted (or truncated) while it was not revoked is announced, as a revoked one is:
 *   an administrator's SQL, or a user deleted with their sessions.
 */
export class RevocationPositions1763798400940 implements MigrationInterface {
  name = 'RevocationPositions1763798400940';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "access_token_lifetimes" (
        "ttl_seconds" integer PRIMARY KEY CHECK ("ttl_seconds" > 0),
        "issued_until" timestamptz NOT NULL
      )`);
    // The longest life a token revoked at `revoked_at` can have: each lifetime counts for tokens
    // issued up to the revocation or until its instances stopped, whichever came first; the
    // lifetime recorded last counts in full, so a clock or a heartbeat late never shortens it.
    await queryRunner.query(`
      CREATE FUNCTION "revocation_expiry"("revoked_at" timestamptz) RETURNS timestamptz
      LANGUAGE sql STABLE AS $$
        SELECT GREATEST(
          "revoked_at" + make_interval(secs => COALESCE(
            (SELECT "ttl_seconds" FROM "access_token_lifetimes"
              ORDER BY "issued_until" DESC LIMIT 1),
            ${LONGEST_ACCESS_TOKEN_TTL_SECONDS})),
          (SELECT max(LEAST("revoked_at", "issued_until") + make_interval(secs => "ttl_seconds"))
             FROM "access_token_lifetimes")
        ) + interval '${VERIFIER_LEEWAY_SECONDS} seconds'
      $$`);

    await queryRunner.query(
      `ALTER TABLE "revocations" ADD COLUMN "position" bigint, ADD COLUMN "expires_at" timestamptz`,
    );
    await queryRunner.query(`
      UPDATE "revocations" SET "position" = "id",
        "expires_at" = "revoked_at" + interval '${LONGEST_ACCESS_TOKEN_TTL_SECONDS + VERIFIER_LEEWAY_SECONDS} seconds'`);
    await queryRunner.query(`ALTER TABLE "revocations" ALTER COLUMN "expires_at" SET NOT NULL`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "revocations_position" ON "revocations" ("position")`,
    );
    await queryRunner.query(`DROP INDEX "revocations_revoked_at"`);
    await queryRunner.query(
      `CREATE INDEX "revocations_expires_at" ON "revocations" ("expires_at")`,
    );

    await queryRunner.query(`
      CREATE TABLE "revocation_log" (
        "one" boolean PRIMARY KEY DEFAULT true CHECK ("one"),
        "position" bigint NOT NULL,
        "resume_from" bigint NOT NULL
      )`);
    await queryRunner.query(`
      INSERT INTO "revocation_log" ("position", "resume_from")
      SELECT COALESCE(max("id"), 0), COALESCE(max("id") + 1, 0) FROM "revocations"`);

    await queryRunner.query(`
      CREATE FUNCTION "revocations_fill_in"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW."expires_at" := COALESCE(NEW."expires_at", "revocation_expiry"(NEW."revoked_at"));
        NEW."position" := NULL; -- handed out at commit
        RETURN NEW;
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER "revocations_fill_in" BEFORE INSERT ON "revocations"
      FOR EACH ROW EXECUTE FUNCTION "revocations_fill_in"()`);
    // Deferred: runs when the transaction commits, after everything else it does, so the lock on
    // revocation_log is held only from here to the commit and is the last lock the transaction
    // takes (no lock-order deadlock). A transaction in REPEATABLE READ or SERIALIZABLE that
    // revokes concurrently with another fails to serialise and must be retried.
    await queryRunner.query(`
      CREATE FUNCTION "revocations_take_position"() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        "next" bigint;
      BEGIN
        UPDATE "revocation_log" SET "position" = "position" + 1 RETURNING "position" INTO "next";
        UPDATE "revocations" SET "position" = "next" WHERE "id" = NEW."id";
        RETURN NULL;
      END
      $$`);
    await queryRunner.query(`
      CREATE CONSTRAINT TRIGGER "revocations_take_position" AFTER INSERT ON "revocations"
      DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW EXECUTE FUNCTION "revocations_take_position"()`);

    // Sessions that end without being revoked. A session's tokens are issued only while it is
    // live, so one whose tokens have all expired (the pruner's week-old sessions) is not announced.
    await queryRunner.query(`
      CREATE FUNCTION "sessions_announce_deletion"() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        "expiry" timestamptz := "revocation_expiry"(
          LEAST(clock_timestamp(), OLD."idle_expires_at", OLD."absolute_expires_at"));
      BEGIN
        IF "expiry" > clock_timestamp() THEN
          INSERT INTO "revocations" ("kind", "subject", "session_id", "revoked_at", "expires_at")
          VALUES ('session', OLD."user_id"::text, OLD."id", clock_timestamp(), "expiry");
        END IF;
        RETURN NULL;
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER "sessions_announce_deletion" AFTER DELETE ON "sessions"
      FOR EACH ROW WHEN (OLD."revoked_at" IS NULL)
      EXECUTE FUNCTION "sessions_announce_deletion"()`);
    await queryRunner.query(`
      CREATE FUNCTION "sessions_announce_truncation"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO "revocations" ("kind", "subject", "session_id", "revoked_at", "expires_at")
        SELECT 'session', "user_id"::text, "id", clock_timestamp(), "expiry"
          FROM (SELECT "user_id", "id", "revocation_expiry"(
                  LEAST(clock_timestamp(), "idle_expires_at", "absolute_expires_at")) AS "expiry"
                  FROM "sessions" WHERE "revoked_at" IS NULL) AS "live"
         WHERE "expiry" > clock_timestamp();
        RETURN NULL;
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER "sessions_announce_truncation" BEFORE TRUNCATE ON "sessions"
      FOR EACH STATEMENT EXECUTE FUNCTION "sessions_announce_truncation"()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "sessions_announce_truncation" ON "sessions"`);
    await queryRunner.query(`DROP FUNCTION "sessions_announce_truncation"()`);
    await queryRunner.query(`DROP TRIGGER "sessions_announce_deletion" ON "sessions"`);
    await queryRunner.query(`DROP FUNCTION "sessions_announce_deletion"()`);
    await queryRunner.query(`DROP TRIGGER "revocations_take_position" ON "revocations"`);
    await queryRunner.query(`DROP FUNCTION "revocations_take_position"()`);
    await queryRunner.query(`DROP TRIGGER "revocations_fill_in" ON "revocations"`);
    await queryRunner.query(`DROP FUNCTION "revocations_fill_in"()`);
    await queryRunner.query(`DROP TABLE "revocation_log"`);
    await queryRunner.query(`DROP INDEX "revocations_expires_at"`);
    await queryRunner.query(`DROP INDEX "revocations_position"`);
    await queryRunner.query(
      `CREATE INDEX "revocations_revoked_at" ON "revocations" ("revoked_at")`,
    );
    await queryRunner.query(
      `ALTER TABLE "revocations" DROP COLUMN "position", DROP COLUMN "expires_at"`,
    );
    await queryRunner.query(`DROP FUNCTION "revocation_expiry"(timestamptz)`);
    await queryRunner.query(`DROP TABLE "access_token_lifetimes"`);
  }
}
