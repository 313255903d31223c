// `npm test`: every project's type check, unit and e2e tests, two Nx tasks at a time, all on one
// throwaway PostgreSQL. Each Jest run's global setup would otherwise initialise a cluster of its
// own (about twenty per run); with TESSERA_TEST_POSTGRES_URL set it uses this one, and each suite
// still creates databases of its own on it. A server named by TESSERA_TEST_POSTGRES_URL or
// DATABASE_URL (CI with a real PostgreSQL) is used instead of starting one. Arguments are passed
// on to `nx run-many` (e.g. `npm test -- -p auth-service`).
//
// Run with ts-node (see package.json): the embedded cluster is the platform's TypeScript class.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { EmbeddedPostgresCluster } from '../../libs/platform/src/lib/database/embedded-postgres-cluster';

const URL_VARIABLE = 'TESSERA_TEST_POSTGRES_URL';
const root = resolve(__dirname, '../..');

async function main(): Promise<number> {
  let url = process.env[URL_VARIABLE] || process.env['DATABASE_URL'];
  let cluster: EmbeddedPostgresCluster | undefined;
  if (!url) {
    Logger.overrideLogger(['fatal', 'error', 'warn']);
    const parent = await mkdtemp(join(tmpdir(), 'tessera-test-pg-'));
    // mkdtemp makes it 0700; as root the `postgres` user must be able to enter it.
    await chmod(parent, 0o755);
    cluster = new EmbeddedPostgresCluster({ directory: join(parent, 'cluster'), ephemeral: true });
    await cluster.start();
    url = cluster.url('postgres');
  }
  try {
    return await run(
      process.execPath,
      [
        join(root, 'node_modules/nx/dist/bin/nx.js'),
        'run-many',
        '-t',
        'typecheck',
        'test',
        'e2e',
        // Two cores: two tasks at a time. Unit-test projects run one Jest worker each (Jest's
        // default on two cores); e2e projects wait on the processes they start more than they
        // compute, so theirs run two suites at a time (their jest.config.cts).
        '--parallel=2',
        '--output-style=static',
        ...process.argv.slice(2),
      ],
      { [URL_VARIABLE]: url },
    );
  } finally {
    await cluster?.stop();
  }
}

function run(command: string, args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolveCode) => {
    const child = spawn(command, args, {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', ...env },
    });
    // Ctrl-C reaches Nx through the terminal; the cluster is stopped once Nx has ended.
    const ignore = () => undefined;
    process.on('SIGINT', ignore);
    process.on('SIGTERM', () => child.kill('SIGTERM'));
    child.on('exit', (code, signal) => resolveCode(code ?? (signal ? 1 : 0)));
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
