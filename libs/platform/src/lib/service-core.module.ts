import { Module, ValidationPipe } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { SERVICE_ENVIRONMENT } from './config/service-config';
import type { ServiceConfig } from './config/service-config';
import { DatabaseModule } from './database/database.module';
import type { DatabaseOptions } from './database/database.options';
import { HealthModule } from './health/health.module';
import { HttpErrorFilter } from './http/http-error.filter';

export interface ServiceCoreOptions {
  /** The service's `registerAs` config from its `src/config/`. */
  config: ServiceConfig;
  /**
   * The PostgreSQL database the service owns. Leave it out for a stateless service: no TypeORM,
   * and `/health/ready` answers 200 once the service serves HTTP.
   */
  database?: DatabaseOptions;
}

/**
 * Everything a Tessera service has in common, imported once by its AppModule: validated
 * configuration, its PostgreSQL database with migrations (when it has one), `/health/live` and `/health/ready`,
 * the house error shape, and strict validation of every DTO.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     ServiceCoreModule.forRoot({
 *       config: ordersConfig,
 *       database: { name: 'orders', dataFolder: 'orders-service', entities, migrations },
 *     }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */
@Module({})
export class ServiceCoreModule {
  static forRoot(options: ServiceCoreOptions): DynamicModule {
    return {
      module: ServiceCoreModule,
      global: true,
      imports: [
        // The config factory validates process.env when Nest resolves it (not at import time), so
        // a bad variable fails start-up with EnvironmentValidationError and tests can set env first.
        ConfigModule.forRoot({ ignoreEnvFile: true, isGlobal: true, load: [options.config] }),
        ...(options.database ? [DatabaseModule.forRoot(options.database)] : []),
        HealthModule.forRoot({ database: options.database !== undefined }),
      ],
      providers: [
        {
          provide: SERVICE_ENVIRONMENT,
          useFactory: (env: unknown) => env,
          inject: [options.config.KEY],
        },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({
            whitelist: true,
            forbidNonWhitelisted: true,
            transform: true,
            stopAtFirstError: false,
          }),
        },
      ],
      exports: [SERVICE_ENVIRONMENT],
    };
  }
}
