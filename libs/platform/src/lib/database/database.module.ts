import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SERVICE_ENVIRONMENT } from '../config/service-config';
import type { LogLevel, ServiceEnvironment } from '../config/service-environment';
import { DatabaseConnectionService } from './database-connection.service';
import { TypeOrmNestLogger } from './typeorm-nest.logger';
import type { DatabaseOptions } from './database.options';
import { DATABASE_OPTIONS } from './database.tokens';

const QUIET_LEVELS: LogLevel[] = ['fatal', 'error', 'warn'];

/**
 * How long a request waits for a pooled connection before it fails and the caller sees 503:
 * well under the 2 s in which a client must hear that the database is down (O1).
 */
const CONNECTION_TIMEOUT_MS = 1000;

/**
 * TypeORM on PostgreSQL with migrations run at start-up and `synchronize` off: the schema
 * changes only through reviewed migrations.
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
          ) => ({
            type: 'postgres' as const,
            url: await connection.resolveUrl(),
            entities: options.entities,
            migrations: options.migrations,
            migrationsRun: true,
            migrationsTransactionMode: 'each' as const,
            synchronize: false,
            // Migration progress is worth a line at `info`; quieter levels keep only problems.
            logger: new TypeOrmNestLogger(!QUIET_LEVELS.includes(environment.LOG_LEVEL)),
            retryAttempts: 5,
            retryDelay: 2000,
            extra: { max: 10, connectionTimeoutMillis: CONNECTION_TIMEOUT_MS },
          }),
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
