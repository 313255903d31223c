import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { ServiceEnvironment } from '../config/service-environment';
import { provisionServiceDatabase } from './database-roles';
import { MIGRATIONS_LOCK, runMigrations } from './run-migrations';

/** A data migration that takes a while: run twice, it would insert two rows. */
class SlowDataMigration1763798401400 implements MigrationInterface {
  name = 'SlowDataMigration1763798401400';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE IF NOT EXISTS runs (at timestamptz NOT NULL)');
    await runner.query('SELECT pg_sleep(0.5)');
    await runner.query('INSERT INTO runs VALUES (now())');
  }
  async down(): Promise<void> {
    return undefined;
  }
}

const environment = {
  DATABASE_CONNECT_ATTEMPTS: 3,
  DATABASE_CONNECT_RETRY_DELAY: 100,
} as ServiceEnvironment;
const options = {
  name: 'example',
  dataFolder: 'example',
  entities: [],
  migrations: [SlowDataMigration1763798401400],
};

async function freshDatabase(): Promise<string> {
  const admin = process.env['TESSERA_TEST_POSTGRES_URL'];
  if (!admin)
    throw new Error('TESSERA_TEST_POSTGRES_URL is not set (the Jest global setup sets it)');
  const name = `migrations_lock_${randomBytes(6).toString('hex')}`;
  const client = new Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

async function query<T>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('runMigrations across instances', () => {
  let logged: string[];

  beforeEach(() => {
    logged = [];
    jest.spyOn(Logger.prototype, 'log').mockImplementation((message: unknown) => {
      logged.push(String(message));
    });
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
      logged.push(`warn: ${String(message)}`);
    });
  });
  afterEach(() => jest.restoreAllMocks());

  it('runs a migration once when four instances start together, and the others say they wait', async () => {
    const url = await freshDatabase();

    await Promise.all(
      Array.from({ length: 4 }, () => runMigrations({ url }, options, environment, false)),
    );

    expect(await query(url, 'SELECT * FROM runs')).toHaveLength(1);
    expect(await query(url, 'SELECT name FROM migrations')).toEqual([
      { name: 'SlowDataMigration1763798401400' },
    ]);
    const waiting = logged.filter((line) => /Another instance is migrating/.test(line));
    expect(waiting.length).toBeGreaterThanOrEqual(1);
    expect(logged.join('\n')).not.toMatch(/Cannot reach|unable to connect/i);
  });

  it('waits while another holds the migration lock, then finds what it applied', async () => {
    const url = await freshDatabase();
    const holder = new Client({ connectionString: url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1)', [MIGRATIONS_LOCK]);

    let finished = false;
    const run = runMigrations({ url }, options, environment, false).then(() => (finished = true));
    while (!logged.some((line) => /Another instance is migrating/.test(line))) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The holder migrates meanwhile, as another instance would.
    await runMigrationsAs(holder);
    expect(finished).toBe(false);
    await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATIONS_LOCK]);
    await holder.end();
    await run;

    expect(await query(url, 'SELECT * FROM runs')).toHaveLength(1);
    expect(logged.some((line) => /migrations ended after \d+ ms/.test(line))).toBe(true);
  });

  it('runs as the service role alone once the migrate job has run, and says to run it when it has not', async () => {
    const admin = process.env['TESSERA_TEST_POSTGRES_URL'] ?? '';
    const name = `migrations_roles_${randomBytes(6).toString('hex')}`;
    const { url, migrationUrl, roles } = await provisionServiceDatabase(
      admin,
      name,
      randomBytes(18).toString('base64url'),
    );
    // A pod of the Deployment before the Job: the service role may not create the table.
    await expect(runMigrations({ url }, options, environment, false)).rejects.toThrow(
      /a migration is pending and DATABASE_URL's role may not change the schema .*run the `migrate` command/,
    );
    // The Job: as the owner, granting the service role its privileges.
    await runMigrations(
      { url: migrationUrl, serviceRole: roles.service },
      options,
      environment,
      false,
    );
    // The pods after it: nothing pending, nothing to change.
    await expect(runMigrations({ url }, options, environment, false)).resolves.toBeUndefined();
    expect(await query(url, 'SELECT * FROM runs')).toHaveLength(1);
  });
});

/** What the other instance's run leaves behind: the table, one row, and its migrations entry. */
async function runMigrationsAs(client: Client): Promise<void> {
  await client.query('CREATE TABLE runs (at timestamptz NOT NULL)');
  await client.query('INSERT INTO runs VALUES (now())');
  await client.query(
    'CREATE TABLE migrations (id SERIAL PRIMARY KEY, "timestamp" bigint NOT NULL, name varchar NOT NULL)',
  );
  await client.query(
    'INSERT INTO migrations ("timestamp", name) VALUES (1763798401400, \'SlowDataMigration1763798401400\')',
  );
}
