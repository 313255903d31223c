import './workspace-paths';
export default async function globalTeardown(): Promise<void> {
  await globalThis.__TESSERA_TEST_POSTGRES_STOP__?.();
}
