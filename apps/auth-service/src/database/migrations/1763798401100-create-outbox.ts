import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The transactional outbox (apps/auth-service/src/outbox): messages written in the transaction of
 * the change they announce, delivered after it commits, per channel in commit order.
 *
 * - `outbox_messages.position`: handed out as the message's transaction commits, in commit order,
 *   the way revocations get theirs (RevocationPositions1763798400940): a deferred trigger, the
 *   last thing the transaction does, increments the one row of `outbox_log`, whose lock then
 *   serialises the enqueuing transactions until their commit. A message committed late can never
 *   land below one already delivered, and a rolled-back one never existed.
 * - The same trigger sends `pg_notify('tessera_outbox', channel)`, which PostgreSQL delivers at
 *   commit: the dispatcher wakes within milliseconds instead of waiting for its next poll.
 * - `lease_until`: an instance delivering a message holds it until then; another instance takes it
 *   over only after that, so a crash mid-delivery delays a message but never loses it.
 * - A delivered message is deleted: mail payloads carry single-use links, which should not outlive
 *   their delivery. `failed_at`: a handler said the message can never be delivered (an address a
 *   mail server refuses for good); it stays for an operator to read, and its channel moves on.
 */
export class CreateOutbox1763798401100 implements MigrationInterface {
  name = 'CreateOutbox1763798401100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "outbox_messages" (
        "id" bigserial PRIMARY KEY,
        "position" bigint,
        "channel" text NOT NULL CHECK ("channel" ~ '^[a-z][a-z0-9._-]{0,63}$'),
        "payload" jsonb NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "attempts" integer NOT NULL DEFAULT 0,
        "next_attempt_at" timestamptz NOT NULL DEFAULT now(),
        "lease_until" timestamptz,
        "last_error" text,
        "failed_at" timestamptz
      )`);
    await queryRunner.query(`
      CREATE UNIQUE INDEX "outbox_messages_pending" ON "outbox_messages" ("channel", "position")
       WHERE "failed_at" IS NULL`);
    await queryRunner.query(`
      CREATE TABLE "outbox_log" (
        "one" boolean PRIMARY KEY DEFAULT true CHECK ("one"),
        "position" bigint NOT NULL
      )`);
    await queryRunner.query(`INSERT INTO "outbox_log" ("position") VALUES (0)`);
    await queryRunner.query(`
      CREATE FUNCTION "outbox_take_position"() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        "next" bigint;
      BEGIN
        UPDATE "outbox_log" SET "position" = "position" + 1 RETURNING "position" INTO "next";
        UPDATE "outbox_messages" SET "position" = "next" WHERE "id" = NEW."id";
        PERFORM pg_notify('tessera_outbox', NEW."channel");
        RETURN NULL;
      END
      $$`);
    await queryRunner.query(`
      CREATE CONSTRAINT TRIGGER "outbox_take_position" AFTER INSERT ON "outbox_messages"
      DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW EXECUTE FUNCTION "outbox_take_position"()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "outbox_take_position" ON "outbox_messages"`);
    await queryRunner.query(`DROP FUNCTION "outbox_take_position"()`);
    await queryRunner.query(`DROP TABLE "outbox_log"`);
    await queryRunner.query(`DROP TABLE "outbox_messages"`);
  }
}
