import { Logger, Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SERVICE_ENVIRONMENT } from '../config/service-config';
import type { LogLevel, ServiceEnvironment } from '../config/service-environment';
import { DatabaseConnectionService } from './database-connection.service';
import type { DatabaseConnection } from './database-connection.service';
import { grantServicePrivileges } from './database-roles';
import { TypeOrmNestLogger } from './typeorm-nest.logger';
import type { DatabaseOptions } from './database.options';
import { DATABASE_OPTIONS } from './database.tokens';

const QUIET_LEVELS: LogLevel[] = ['fatal', 'error', 'warn'];

/**
 * How long a request waits for a pooled connection before it fails and the caller sees 503:
 * well under the 2 s in which a client must hear that the database is down (O1).
 */
const CONNECTION_TIMEOUT_MS = 1000;

/** TypeORM's default name for its table of applied migrations. */
const MIGRATIONS_TABLE = 'migrations';

/**
 * TypeORM on PostgreSQL with migrations run at start-up and `synchronize` off: the schema
 * changes only through reviewed migrations. With a migration role (DATABASE_MIGRATION_URL, or the
 * embedded PostgreSQL's owner role) they run as that role before the pool opens, and the pool's
 * role gets only the service's privileges (docs/security-model.md, "Database roles").
 */
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseOptions): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          imports: [DatabaseConnectionModule.register(options)],
          inject: [DatabaseConnectionService, SERVICE_ENVIRONMENT],
          useFactory: async (
            connection: DatabaseConnectionService,
            environment: ServiceEnvironment,
          ) => {
            const quiet = QUIET_LEVELS.includes(environment.LOG_LEVEL);
            const resolved = await connection.resolve();
            if (resolved.migration) {
              await migrateAsOwner(resolved, options, quiet, environment);
            }
            return {
              type: 'postgres' as const,
              url: resolved.url,
              entities: options.entities,
              migrations: options.migrations,
              migrationsRun: !resolved.migration,
              migrationsTransactionMode: 'each' as const,
              synchronize: false,
              // The service's role may not install extensions, and the migrations need none.
              installExtensions: false,
              // Migration progress is worth a line at `info`; quieter levels keep only problems.
              logger: new TypeOrmNestLogger(!quiet),
              // Tries in all (TypeORM logs each failure as "Retrying (n)...", the last one too).
              retryAttempts: environment.DATABASE_CONNECT_ATTEMPTS,
              retryDelay: environment.DATABASE_CONNECT_RETRY_DELAY,
              extra: { max: 10, connectionTimeoutMillis: CONNECTION_TIMEOUT_MS },
            };
          },
        }),
      ],
    };
  }
}

/**
 * Runs the pending migrations as the migration role, then grants the pool's role what the service
 * needs, in a connection of its own that is closed before the pool opens.
 */
async function migrateAsOwner(
  { migration }: DatabaseConnection,
  options: DatabaseOptions,
  quiet: boolean,
  { DATABASE_CONNECT_ATTEMPTS: attempts, DATABASE_CONNECT_RETRY_DELAY: delay }: ServiceEnvironment,
): Promise<void> {
  if (!migration) return;
  const dataSource = new DataSource({
    type: 'postgres',
    url: migration.url,
    migrations: options.migrations,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    installExtensions: false,
    logger: new TypeOrmNestLogger(!quiet),
    extra: { max: 1, connectionTimeoutMillis: CONNECTION_TIMEOUT_MS * 5 },
  });
  for (let attempt = 1; !dataSource.isInitialized; attempt++) {
    try {
      await dataSource.initialize();
    } catch (error) {
      if (attempt >= attempts) throw error;
      new Logger(DatabaseModule.name).warn(
        `Cannot reach the database to migrate it (${attempt}/${attempts}): ${error instanceof Error ? error.message : error}`,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  try {
    await dataSource.runMigrations({ transaction: 'each' });
    const runner = dataSource.createQueryRunner();
    try {
      await grantServicePrivileges(
        runner,
        migration.serviceRole,
        options.appendOnly ?? [],
        MIGRATIONS_TABLE,
      );
    } finally {
      await runner.release();
    }
  } finally {
    await dataSource.destroy();
  }
}

@Module({})
class DatabaseConnectionModule {
  static register(options: DatabaseOptions): DynamicModule {
    return {
      module: DatabaseConnectionModule,
      providers: [{ provide: DATABASE_OPTIONS, useValue: options }, DatabaseConnectionService],
      exports: [DatabaseConnectionService],
    };
  }
}
