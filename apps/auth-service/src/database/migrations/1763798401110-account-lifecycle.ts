import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Email verification, password reset and email change (docs/account-lifecycle.md):
 *
 * - `users.email_verified_at`: when the account's current address was proven; null until then.
 * - `account_tokens`: the links (and the short verification code) sent by mail. Only SHA-256 hashes
 *   are kept. A token is single-use (`used_at`), dies at `expires_at`, is deleted when a newer one
 *   of its purpose is issued, and a reset token also dies when the password changes any other way:
 *   it carries a fingerprint of the password hash it was issued under.
 * - `account_mail_requests`: how many mails of a kind were asked for per account and per client
 *   address in each hour, for the throttles (AccountMailThrottle).
 * - The audit event types of these steps, added to whatever list `audit_events_type_known` holds
 *   when this runs (other migrations of the same round add theirs the same way).
 */
const AUDIT_TYPES = [
  'email.verification_sent',
  'email.verified',
  'password.reset_requested',
  'password.reset',
  'email.change_requested',
  'email.changed',
  'email.change_undone',
  'account.token_refused',
];

export class AccountLifecycle1763798401110 implements MigrationInterface {
  name = 'AccountLifecycle1763798401110';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD COLUMN "email_verified_at" timestamptz`);
    await queryRunner.query(`
      CREATE TABLE "account_tokens" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
        "purpose" text NOT NULL,
        "token_hash" bytea NOT NULL UNIQUE,
        "code_hash" bytea,
        "code_attempts" integer NOT NULL DEFAULT 0,
        "email" text NOT NULL,
        "password_fingerprint" bytea,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "expires_at" timestamptz NOT NULL,
        "used_at" timestamptz,
        CONSTRAINT "account_tokens_purpose_known"
          CHECK ("purpose" IN ('email_verification', 'password_reset', 'email_change', 'email_change_undo'))
      )`);
    await queryRunner.query(
      `CREATE INDEX "account_tokens_user_purpose" ON "account_tokens" ("user_id", "purpose")`,
    );
    await queryRunner.query(`
      CREATE TABLE "account_mail_requests" (
        "kind" text NOT NULL,
        "key" text NOT NULL,
        "hour" timestamptz NOT NULL,
        "seen" integer NOT NULL,
        PRIMARY KEY ("kind", "key", "hour")
      )`);
    await setAuditTypes(queryRunner, (types) => [
      ...types,
      ...AUDIT_TYPES.filter((type) => !types.includes(type)),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Fails while the append-only log holds such events: they stay as long as its retention says.
    await setAuditTypes(queryRunner, (types) =>
      types.filter((type) => !AUDIT_TYPES.includes(type)),
    );
    await queryRunner.query(`DROP TABLE "account_mail_requests"`);
    await queryRunner.query(`DROP TABLE "account_tokens"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "email_verified_at"`);
  }
}

/** Rewrites the CHECK of audit event types from the list it holds now. */
async function setAuditTypes(
  queryRunner: QueryRunner,
  change: (types: string[]) => string[],
): Promise<void> {
  const [row]: { definition: string }[] = await queryRunner.query(
    `SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint
      WHERE conname = 'audit_events_type_known' AND conrelid = '"audit_events"'::regclass`,
  );
  const current = [...row.definition.matchAll(/'([^']+)'/g)].map((match) => match[1]);
  const types = change(current)
    .map((type) => `'${type.replace(/'/g, "''")}'`)
    .join(', ');
  await queryRunner.query(`ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_type_known"`);
  await queryRunner.query(
    `ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_type_known" CHECK ("type" IN (${types}))`,
  );
}
