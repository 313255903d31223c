import { Module } from '@nestjs/common';
import type { ModuleMetadata, Type } from '@nestjs/common';
import { ServiceCoreModule } from '@tessera/platform';
import { createTestApplication } from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import { Clock } from '@tessera/auth-token';
import { authServiceConfig } from './config/auth-service.config';
import { authDatabase } from './database/database';

export interface FeatureUnderTest {
  /** The feature modules to test, e.g. `[SessionsModule]`. */
  imports?: ModuleMetadata['imports'];
  /** Controllers that exist only for the test, e.g. to drive a service over real HTTP. */
  controllers?: Type<unknown>[];
}

/**
 * For tests only: some of auth-service's feature modules on the service's whole schema (every
 * migration applied), on a fresh database of the test PostgreSQL, over real HTTP.
 *
 * @example
 * const service = await createFeatureTestApplication({ imports: [SessionsModule] }, { REFRESH_REUSE_GRACE: '0' });
 * const sessions = service.app.get(SessionsService);
 */
export function createFeatureTestApplication(
  feature: FeatureUnderTest,
  environment: Record<string, string> = {},
): Promise<TestApplication> {
  @Module({
    imports: [
      ServiceCoreModule.forRoot({
        config: authServiceConfig,
        database: authDatabase,
      }),
      ...(feature.imports ?? []),
    ],
    controllers: feature.controllers ?? [],
  })
  class FeatureTestModule {}
  return createTestApplication(FeatureTestModule, authServiceConfig, environment);
}

/** Takes over the app's Clock for good: from now on it stands still until advanced. */
export function controlClock(service: TestApplication, start = Date.now()) {
  let now = start;
  service.app.get(Clock).now = () => new Date(now);
  return {
    now: () => new Date(now),
    advance(seconds: number): void {
      now += seconds * 1000;
    },
  };
}
