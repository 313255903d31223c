import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SERVICE_ENVIRONMENT } from '../config/service-config';
import type { LogLevel, ServiceEnvironment } from '../config/service-environment';
import { DatabaseConnectionService } from './database-connection.service';
import { TypeOrmNestLogger } from './typeorm-nest.logger';
import type { DatabaseOptions } from './database.options';
import { DATABASE_OPTIONS } from './database.tokens';
import { runMigrations } from './run-migrations';

const QUIET_LEVELS: LogLevel[] = ['fatal', 'error', 'warn'];

/**
 * How long a request waits for a pooled connection before it fails and the caller sees 503:
 * well under the 2 s in which a client must hear that the database is down (O1).
 */
const CONNECTION_TIMEOUT_MS = 1000;

/**
 * TypeORM on PostgreSQL with migrations run at start-up and `synchronize` off: the schema
 * changes only through reviewed migrations. They run before the pool opens, one instance at a
 * time (run-migrations.ts). With a migration role (DATABASE_MIGRATION_URL, or the embedded
 * PostgreSQL's owner role) they run as that role, and the pool's role gets only the service's
 * privileges (docs/security-model.md, "Database roles").
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
            // Before the pool opens, and once however many instances start together (the
            // advisory lock in run-migrations.ts): TypeORM's own migrationsRun would race.
            await runMigrations(
              resolved.migration ?? { url: resolved.url },
              options,
              environment,
              !quiet,
            );
            return {
              type: 'postgres' as const,
              url: resolved.url,
              entities: options.entities,
              migrations: options.migrations,
              migrationsRun: false,
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
