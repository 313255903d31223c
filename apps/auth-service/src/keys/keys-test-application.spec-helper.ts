import { Module } from '@nestjs/common';
import { ServiceCoreModule } from '@tessera/platform';
import { createTestApplication } from '@tessera/platform/testing';
import type { TestApplication } from '@tessera/platform/testing';
import { authServiceConfig } from '../config/auth-service.config';
import { CreateUsers1763798400000 } from '../database/migrations/1763798400000-create-users';
import { Clock } from '../clock/clock';
import { User } from '../users/user.entity';
import { KeysModule } from './keys.module';
import { keysEntities, keysMigrations } from './keys.persistence';

/** For tests only: KeysModule alone on a real database, with its migrations applied. */
@Module({
  imports: [
    ServiceCoreModule.forRoot({
      config: authServiceConfig,
      database: {
        name: 'auth',
        dataFolder: 'auth-service',
        entities: [User, ...keysEntities],
        migrations: [CreateUsers1763798400000, ...keysMigrations],
      },
    }),
    KeysModule,
  ],
})
class KeysTestModule {}

/** KeysModule over real HTTP on a fresh database (or on `DATABASE_URL` when given). */
export function createKeysTestApplication(
  environment: Record<string, string> = {},
): Promise<TestApplication> {
  return createTestApplication(KeysTestModule, authServiceConfig, environment);
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
