import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { HealthCheckResult } from '@nestjs/terminus';
import { ApiErrors } from '../api-docs/api-errors.decorator';
import { Public } from '@tessera/auth-token';
import { HEALTH_OPTIONS } from './health.options';
import type { HealthOptions } from './health.options';

/** How long readiness waits for the database before it answers 503. */
const DATABASE_PING_TIMEOUT_MS = 1000;

class Liveness {
  @ApiProperty({ enum: ['ok'] })
  status!: 'ok';
}

/** What @nestjs/terminus answers: each check's status under `info` and `details`. */
class Readiness {
  @ApiProperty({ enum: ['ok'] })
  status!: 'ok';

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { database: { status: 'up' } },
  })
  info!: Record<string, unknown>;

  @ApiProperty({ type: 'object', additionalProperties: true, example: {} })
  error!: Record<string, unknown>;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { database: { status: 'up' } },
  })
  details!: Record<string, unknown>;
}

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    @Inject(HEALTH_OPTIONS) private readonly options: HealthOptions,
  ) {}

  /** The process is up and serving HTTP: restart it only when this fails. */
  @ApiOperation({ summary: 'The process serves HTTP (restart it when this fails)' })
  @ApiOkResponse({ type: Liveness })
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * The service can do its work: its database (if it has one) answers. Route traffic only while
   * this is 200.
   */
  @ApiOperation({ summary: 'The service can do its work: its database (if any) answers' })
  @ApiOkResponse({ type: Readiness })
  @ApiErrors({ status: 503, description: 'Not ready: the database does not answer' })
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
