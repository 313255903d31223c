import type { MixedList } from 'typeorm';

export interface DatabaseOptions {
  /** The database this service owns, e.g. `auth`; used when the service runs its own PostgreSQL. */
  name: string;
  /** Sub-folder of DATA_DIR for the embedded cluster, e.g. `auth-service`. */
  dataFolder: string;
  // TypeORM's own types: entity and migration classes are listed, never globbed, because the
  // services are bundled by webpack and a glob would find nothing at run time.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function>;
  /**
   * Tables the service's own role may only read and append to: no UPDATE, DELETE or TRUNCATE,
   * whatever a migration grants (e.g. an audit log). Applies when migrations run as another role
   * (DATABASE_MIGRATION_URL, or the embedded PostgreSQL).
   */
  appendOnly?: string[];
}
