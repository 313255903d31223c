import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Params } from 'nestjs-pino';
import { MetricsModule } from './metrics/metrics.module';

/**
 * Logs and metrics for every application createServiceApplication builds, added around the
 * service's own AppModule: nestjs-pino's request logging (one line per request, `reqId` bound to
 * every line logged while it runs) and the application's Metrics registry with its listener.
 */
@Module({})
export class ObservabilityModule {
  static forRoot(logging: Params): DynamicModule {
    return { module: ObservabilityModule, imports: [LoggerModule.forRoot(logging), MetricsModule] };
  }
}
