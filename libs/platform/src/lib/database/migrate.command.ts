import type { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MIGRATIONS_TABLE } from './run-migrations';

/**
 * `node dist/apps/<service>/main.js migrate`: the deploy job that migrates before the new
 * version's instances start (deploy/kubernetes, docs/deploying.md). Building the application
 * context has already run the pending migrations, under the same advisory lock as every start;
 * this says what the schema holds now.
 */
export async function migrateCommand(app: INestApplicationContext): Promise<string> {
  let dataSource: DataSource;
  try {
    dataSource = app.get(DataSource, { strict: false });
  } catch {
    throw new Error('this service has no database to migrate');
  }
  const applied = (await dataSource.query(
    `SELECT name FROM "${MIGRATIONS_TABLE}" ORDER BY id`,
  )) as { name: string }[];
  const latest = applied.at(-1)?.name ?? 'none';
  return `The schema is up to date: ${applied.length} migration(s) applied, the latest ${latest}`;
}
