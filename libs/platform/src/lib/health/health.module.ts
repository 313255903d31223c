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
      // Terminus logs why a check failed, as JSON inside the line (its 'pretty' style draws a box
      // in terminal colours); the controller answers 503 with the house error shape.
      imports: [TerminusModule.forRoot({ errorLogStyle: 'json' })],
      providers: [{ provide: HEALTH_OPTIONS, useValue: options }],
      controllers: [HealthController],
    };
  }
}
