import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { HEALTH_OPTIONS } from './health.options';
import type { HealthOptions } from './health.options';

@Module({})
export class HealthModule {
  static forRoot(options: HealthOptions): DynamicModule {
    return {
      module: HealthModule,
      // Terminus logs why a check failed; the controller answers 503 with the house error shape.
      imports: [TerminusModule.forRoot({ errorLogStyle: 'pretty' })],
      providers: [{ provide: HEALTH_OPTIONS, useValue: options }],
      controllers: [HealthController],
    };
  }
}
