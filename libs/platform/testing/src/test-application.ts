import type { Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServiceApplication } from '@tessera/platform';
import type { ServiceConfig } from '@tessera/platform';
import { createTestDatabase } from './test-postgres';

export interface TestApplication {
  app: NestFastifyApplication;
  /** `http://127.0.0.1:<port>`: tests speak real HTTP to it. */
  url: string;
  databaseUrl: string;
  close: () => Promise<void>;
}

/**
 * The service's real AppModule on a fresh database of the test PostgreSQL, listening on a free
 * loopback port. `environment` adds or overrides variables for this app only.
 */
export async function createTestApplication(
  appModule: Type<unknown>,
  config: ServiceConfig,
  environment: Record<string, string> = {},
): Promise<TestApplication> {
  const databaseUrl = await createTestDatabase('test');
  const saved = { ...process.env };
  Object.assign(
    process.env,
    { NODE_ENV: 'test', LOG_LEVEL: 'warn', DATABASE_URL: databaseUrl },
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
