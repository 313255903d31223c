import './workspace-paths';
import { startTestPostgres, TEST_POSTGRES_URL_VARIABLE } from './test-postgres';

declare global {
  var __TESSERA_TEST_POSTGRES_STOP__: (() => Promise<void>) | undefined;
}

/**
 * One PostgreSQL per Jest run; workers inherit its URL through the environment. Under `npm test`
 * (tools/scripts/test.ts) the URL is already set: every Jest run shares that one server.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env[TEST_POSTGRES_URL_VARIABLE]) return;
  const postgres = await startTestPostgres();
  process.env[TEST_POSTGRES_URL_VARIABLE] = postgres.url;
  globalThis.__TESSERA_TEST_POSTGRES_STOP__ = postgres.stop;
}
