import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The address groups (an IPv4 address, an IPv6 /64) each account signed in from lately: past
 * the account's failure ceiling, these are not slowed (docs/security-model.md, "Login
 * throttling"). Rows older than the throttle's KNOWN_ADDRESS_SECONDS are ignored and pruned.
 */
export class CreateLoginKnownAddresses1763798400910 implements MigrationInterface {
  name = 'CreateLoginKnownAddresses1763798400910';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "login_known_addresses" (
        "account" text NOT NULL,
        "address" text NOT NULL,
        "last_success_at" timestamptz NOT NULL,
        PRIMARY KEY ("account", "address")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "login_known_addresses"`);
  }
}
