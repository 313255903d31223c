import type { Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServiceApplication } from '@tessera/platform';
import type { ServiceConfig } from '@tessera/platform';
import { createLeastPrivilegeTestDatabase } from './test-postgres';

export interface TestApplication {
  app: NestFastifyApplication;
  /** `http://127.0.0.1:<port>`: tests speak real HTTP to it. */
  url: string;
  /** The URL the app's pool uses: its database's service role, unless `environment` set another. */
  databaseUrl: string;
  close: () => Promise<void>;
}

/**
 * The service's real AppModule on a fresh database of the test PostgreSQL, listening on a free
 * loopback port. The app runs as it runs outside the tests: migrations as the database's owner
 * role, the pool as its service role with the service's privileges only. `environment` adds or
 * overrides variables for this app only; with a DATABASE_URL of its own, that URL does both.
 */
export async function createTestApplication(
  appModule: Type<unknown>,
  config: ServiceConfig,
  environment: Record<string, string> = {},
): Promise<TestApplication> {
  const database = environment['DATABASE_URL']
    ? undefined
    : await createLeastPrivilegeTestDatabase('test');
  const databaseUrl = environment['DATABASE_URL'] ?? (database?.url as string);
  const saved = { ...process.env };
  Object.assign(
    process.env,
    {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: databaseUrl,
      DATABASE_MIGRATION_URL: database?.migrationUrl ?? '',
    },
    environment,
  );
  try {
    const app = await createServiceApplication(appModule, config());
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : 0;
    // Tests need no graceful drain: a connection left mid-request (a refused oversized body, say)
    // must not hold the close up.
    const close = async () => {
      app.getHttpServer().closeAllConnections();
      await app.close();
    };
    return { app, url: `http://127.0.0.1:${port}`, databaseUrl, close };
  } finally {
    process.env = saved;
  }
}
