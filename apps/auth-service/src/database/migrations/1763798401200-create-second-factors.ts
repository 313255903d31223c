import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The audit event types this migration adds (apps/auth-service/src/audit/audit-event.entity.ts). */
const MFA_EVENT_TYPES = [
  'mfa.enrolled',
  'mfa.verified',
  'mfa.failed',
  'mfa.locked',
  'mfa.removed',
  'mfa.recovery_codes_generated',
];

/**
 * Second factors (docs/second-factors.md): TOTP secrets (encrypted, with the last step used so a
 * code works once), hashed recovery codes, passkeys, the single-use WebAuthn challenges, the
 * pending sign-ins that wait for a second factor, the failures that lock it, and the methods
 * (`amr`) each session was signed in with.
 *
 * The audit types are added to whatever list `audit_events_type_known` holds when this runs
 * (read from the catalogue), so migrations of other features that add theirs keep them.
 */
export class CreateSecondFactors1763798401200 implements MigrationInterface {
  name = 'CreateSecondFactors1763798401200';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "totp_factors" (
        "user_id" uuid PRIMARY KEY REFERENCES "users" ("id") ON DELETE CASCADE,
        "secret_encrypted" text NOT NULL,
        "confirmed_at" timestamptz,
        "last_used_step" bigint,
        "created_at" timestamptz NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE "recovery_codes" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
        "code_hash" bytea NOT NULL,
        "used_at" timestamptz,
        "created_at" timestamptz NOT NULL,
        UNIQUE ("user_id", "code_hash")
      )`);
    await queryRunner.query(`
      CREATE TABLE "passkeys" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
        "credential_id" text NOT NULL UNIQUE,
        "public_key" bytea NOT NULL,
        "counter" bigint NOT NULL DEFAULT 0,
        "transports" text[] NOT NULL DEFAULT '{}',
        "name" text NOT NULL,
        "created_at" timestamptz NOT NULL,
        "last_used_at" timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX "passkeys_user_id" ON "passkeys" ("user_id")`);
    await queryRunner.query(`
      CREATE TABLE "webauthn_challenges" (
        "challenge" text PRIMARY KEY,
        "purpose" text NOT NULL CHECK ("purpose" IN ('registration', 'authentication')),
        "user_id" uuid REFERENCES "users" ("id") ON DELETE CASCADE,
        "expires_at" timestamptz NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE "mfa_pending_sign_ins" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "token_hash" bytea NOT NULL UNIQUE,
        "user_id" uuid NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
        "scope" text NOT NULL,
        "audiences" text[] NOT NULL,
        "expires_at" timestamptz NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE "mfa_failures" (
        "id" bigserial PRIMARY KEY,
        "user_id" uuid NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
        "failed_at" timestamptz NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX "mfa_failures_user_id_failed_at" ON "mfa_failures" ("user_id", "failed_at")`,
    );
    await queryRunner.query(
      `ALTER TABLE "sessions" ADD COLUMN "amr" text[] NOT NULL DEFAULT '{pwd}'`,
    );
    await this.setAuditTypes(queryRunner, (types) => [...new Set([...types, ...MFA_EVENT_TYPES])]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await this.setAuditTypes(queryRunner, (types) =>
      types.filter((type) => !MFA_EVENT_TYPES.includes(type)),
    );
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "amr"`);
    for (const table of [
      'mfa_failures',
      'mfa_pending_sign_ins',
      'webauthn_challenges',
      'passkeys',
      'recovery_codes',
      'totp_factors',
    ]) {
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
  }

  /** Rewrites the CHECK of audit event types from the list it holds now. */
  private async setAuditTypes(
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
}
