import { createServiceApplication } from '@tessera/platform';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLeastPrivilegeTestDatabase } from '@tessera/platform-testing';
import { createServer } from 'node:net';
import { AppModule } from '../app.module';
import { authServiceConfig } from '../config/auth-service.config';

/** auth-service's whole AppModule on a port known before it starts, so ISSUER can name it. */
export interface IssuerTestApplication {
  app: NestFastifyApplication;
  /** `http://127.0.0.1:<port>`, which is also ISSUER. */
  url: string;
  close: () => Promise<void>;
}

/**
 * For tests only, as createTestApplication, but on a port chosen first and given to ISSUER:
 * the authorization flow redirects the browser to absolute URLs under the issuer.
 */
export async function createIssuerTestApplication(
  environment: Record<string, string> = {},
): Promise<IssuerTestApplication> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const database = await createLeastPrivilegeTestDatabase('authorize');
  const saved = { ...process.env };
  Object.assign(process.env, {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: database.url,
    DATABASE_MIGRATION_URL: database.migrationUrl,
    ISSUER: url,
    ...environment,
  });
  try {
    const app = await createServiceApplication(AppModule, authServiceConfig());
    await app.listen({ port, host: '127.0.0.1' });
    const close = async () => {
      app.getHttpServer().closeAllConnections();
      await app.close();
    };
    return { app, url, close };
  } finally {
    process.env = saved;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
