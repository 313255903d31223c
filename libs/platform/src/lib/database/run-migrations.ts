import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { QueryRunner } from 'typeorm';
import type { ServiceEnvironment } from '../config/service-environment';
import { grantServicePrivileges } from './database-roles';
import type { DatabaseOptions } from './database.options';
import { TypeOrmNestLogger } from './typeorm-nest.logger';

/** TypeORM's default name for its table of applied migrations. */
export const MIGRATIONS_TABLE = 'migrations';

/**
 * `pg_advisory_lock` key that serialises migration runs on one database ("mi" + 7638). Advisory
 * locks are per database, so services sharing a PostgreSQL server do not wait for each other.
 */
export const MIGRATIONS_LOCK = 0x6d69_7638;

/** While another instance migrates, a line this often says this one is still waiting. */
const WAITING_LOG_INTERVAL_MS = 10_000;

/** SQLSTATE 42501: the role may not do what a migration asks (DDL as the service's own role). */
const INSUFFICIENT_PRIVILEGE = '42501';

export interface MigrationTarget {
  /** Where the migrations run: the owner role's URL, or DATABASE_URL itself. */
  url: string;
  /** The pool's role, which gets the service's privileges afterwards; none when it is `url`'s. */
  serviceRole?: string;
}

/**
 * Runs the pending migrations once however many instances start together: each run holds a
 * PostgreSQL advisory lock (MIGRATIONS_LOCK) on a connection of its own from before it reads the
 * migrations table until the grants are made, so a second instance waits, says so, and then finds
 * nothing pending. Connection failures are retried DATABASE_CONNECT_ATTEMPTS times; a wait for the
 * lock is not a failure and is not counted.
 */
export async function runMigrations(
  target: MigrationTarget,
  options: DatabaseOptions,
  { DATABASE_CONNECT_ATTEMPTS: attempts, DATABASE_CONNECT_RETRY_DELAY: delay }: ServiceEnvironment,
  verbose: boolean,
): Promise<void> {
  const logger = new Logger('Migrations');
  const dataSource = new DataSource({
    type: 'postgres',
    url: target.url,
    migrations: options.migrations,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    installExtensions: false,
    logger: new TypeOrmNestLogger(verbose),
    // One connection holds the lock, one runs the migrations.
    extra: { max: 2, connectionTimeoutMillis: 5000 },
  });
  for (let attempt = 1; !dataSource.isInitialized; attempt++) {
    try {
      await dataSource.initialize();
    } catch (error) {
      // Every failed try gets its line, the last one too; the error then ends the start.
      logger.warn(
        `Unable to connect to the database (try ${attempt} of ${attempts}): ${messageOf(error)}`,
      );
      if (attempt >= attempts) {
        throw new Error(
          `the database could not be reached in ${attempts} tries (${messageOf(error)}): ` +
            'check DATABASE_URL (or DATABASE_MIGRATION_URL) and that PostgreSQL is running',
          { cause: error },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  const lock = dataSource.createQueryRunner();
  try {
    await acquireMigrationLock(lock, logger);
    try {
      await applyPending(dataSource, target, options.appendOnly ?? []);
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATIONS_LOCK]).catch(() => undefined);
    }
  } finally {
    await lock.release();
    await dataSource.destroy();
  }
}

async function acquireMigrationLock(lock: QueryRunner, logger: Logger): Promise<void> {
  const [{ locked }] = (await lock.query('SELECT pg_try_advisory_lock($1) AS locked', [
    MIGRATIONS_LOCK,
  ])) as [{ locked: boolean }];
  if (locked) return;
  const started = Date.now();
  logger.log('Another instance is migrating this database: waiting for it to finish');
  const waiting = setInterval(() => {
    const seconds = Math.round((Date.now() - started) / 1000);
    logger.log(`Still waiting for another instance's migrations (${seconds} s)`);
  }, WAITING_LOG_INTERVAL_MS);
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATIONS_LOCK]);
  } finally {
    clearInterval(waiting);
  }
  logger.log(
    `The other instance's migrations ended after ${Date.now() - started} ms; checking for pending ones`,
  );
}

async function applyPending(
  dataSource: DataSource,
  target: MigrationTarget,
  appendOnly: readonly string[],
): Promise<void> {
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } catch (error) {
    if (target.serviceRole || sqlStateOf(error) !== INSUFFICIENT_PRIVILEGE) throw error;
    throw new Error(
      `a migration is pending and DATABASE_URL's role may not change the schema (${messageOf(error)}): ` +
        'run the `migrate` command as the owner role first (DATABASE_URL and DATABASE_MIGRATION_URL ' +
        'set, docs/deploying.md), or give the service DATABASE_MIGRATION_URL',
      { cause: error },
    );
  }
  if (!target.serviceRole) return;
  const runner = dataSource.createQueryRunner();
  try {
    await grantServicePrivileges(runner, target.serviceRole, appendOnly, MIGRATIONS_TABLE);
  } finally {
    await runner.release();
  }
}

function sqlStateOf(error: unknown): string | undefined {
  const { code, driverError } = error as { code?: unknown; driverError?: { code?: unknown } };
  const found = driverError?.code ?? code;
  return typeof found === 'string' ? found : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
