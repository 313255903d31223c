import { Module } from '@nestjs/common';
import { ServiceCoreModule } from '@tessera/platform';
import { createTestApplication } from '@tessera/platform/testing';
import type { TestApplication } from '@tessera/platform/testing';
import { authServiceConfig } from '../config/auth-service.config';
import { CreateUsers1763798400000 } from '../database/migrations/1763798400000-create-users';
import { User } from '../users/user.entity';
import { SessionsModule } from './sessions.module';
import { sessionsEntities, sessionsMigrations } from './sessions.persistence';

/** For tests only: SessionsModule alone on a real database, with its migrations applied. */
@Module({
  imports: [
    ServiceCoreModule.forRoot({
      config: authServiceConfig,
      database: {
        name: 'auth',
        dataFolder: 'auth-service',
        entities: [User, ...sessionsEntities],
        migrations: [CreateUsers1763798400000, ...sessionsMigrations],
      },
    }),
    SessionsModule,
  ],
})
class SessionsTestModule {}

/** SessionsModule on a fresh database of the test PostgreSQL (or on `DATABASE_URL` when given). */
export function createSessionsTestApplication(
  environment: Record<string, string> = {},
): Promise<TestApplication> {
  return createTestApplication(SessionsTestModule, authServiceConfig, environment);
}
