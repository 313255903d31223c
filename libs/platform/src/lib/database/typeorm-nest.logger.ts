import { Logger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';

const UNIQUE_VIOLATION = '23505';

function sqlStateOf(error: string | Error): string | undefined {
  const code = (error as { code?: unknown; driverError?: { code?: unknown } }).driverError?.code;
  return typeof code === 'string'
    ? code
    : ((error as { code?: unknown }).code as string | undefined);
}

/**
 * TypeORM's logs through the Nest logger, without query parameters ever: they hold password
 * hashes, token hashes and emails. A failed query is logged as its SQL and the driver's message.
 */
export class TypeOrmNestLogger implements TypeOrmLogger {
  private readonly logger = new Logger('TypeORM');

  constructor(private readonly verbose: boolean) {}

  logQuery(): void {
    // Every query at debug level would drown the logs; the pool is observable through metrics.
  }

  logQueryError(error: string | Error, query: string): void {
    const message = error instanceof Error ? error.message : error;
    // A unique violation is how a service learns "already exists" (a duplicate registration):
    // the caller turns it into a 409, so it is not an error of the service.
    if (sqlStateOf(error) === UNIQUE_VIOLATION) {
      this.logger.debug(`Query refused: ${message} -- ${query}`);
      return;
    }
    this.logger.error(`Query failed: ${message} -- ${query}`);
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn(`Slow query (${time} ms): ${query}`);
  }

  logSchemaBuild(message: string): void {
    if (this.verbose) this.logger.log(message);
  }

  logMigration(message: string): void {
    if (this.verbose) this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
    else if (this.verbose) this.logger.log(String(message));
  }
}
