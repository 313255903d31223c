import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { HealthCheckResult } from '@nestjs/terminus';
import { Public } from '../http/public.decorator';
import { HEALTH_OPTIONS } from './health.options';
import type { HealthOptions } from './health.options';

/** How long readiness waits for the database before it answers 503. */
const DATABASE_PING_TIMEOUT_MS = 1000;

@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    @Inject(HEALTH_OPTIONS) private readonly options: HealthOptions,
  ) {}

  /** The process is up and serving HTTP: restart it only when this fails. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * The service can do its work: its database (if it has one) answers. Route traffic only while
   * this is 200.
   */
  @Get('ready')
  async ready(): Promise<HealthCheckResult> {
    if (!this.options.database) return this.health.check([]);
    try {
      return await this.health.check([
        () => this.database.pingCheck('database', { timeout: DATABASE_PING_TIMEOUT_MS }),
      ]);
    } catch {
      throw new ServiceUnavailableException('Not ready: the database does not answer');
    }
  }
}
