/**
 * `npm run bench`: what the guard costs, measured against the built resource-service run as a
 * real process. One answer behind two doors (GET /ping open, GET /ping/guarded needing a valid
 * token with notes:read) is loaded with autocannon: open, guarded with one reused token (the
 * normal client), and guarded with a token never seen before on every request (each a full
 * ES256 verification). Tokens come from an in-process TestIssuer, so signing costs the service
 * nothing and auth-service is not needed.
 *
 * The scenarios take turns for BENCH_ROUNDS rounds (default 3) of BENCH_DURATION seconds each
 * (default 5), and each row reports its median round: the load generator shares the machine, and
 * turns plus a median keep a passing disturbance out of the ratio. BENCH_CONNECTIONS (default 50)
 * sets the concurrency.
 */
import { TestIssuer } from '@tessera/auth/testing';
import { ServiceProcess } from '@tessera/platform/testing';
import autocannon from 'autocannon';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const PORT = 13092;
const url = `http://127.0.0.1:${PORT}`;
const duration = Number(process.env['BENCH_DURATION'] ?? 5);
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 50);
/** More than the guard's verification cache holds (10 000), so cycling through them never hits it. */
const FRESH_TOKENS = 30_000;

interface Scenario {
  name: string;
  path: string;
  /** The Authorization header of each request, or none. */
  authorization?: () => string;
}

interface Row {
  name: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  failures: number;
}

async function main(): Promise<void> {
  build();
  const issuer = await TestIssuer.start({ audience: 'resource-service' });
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  chmodSync(dataDir, 0o755);
  const service = await ServiceProcess.start({
    main: join(root, 'dist/apps/resource-service/main.js'),
    url,
    timeoutMs: 60_000,
    env: {
      PORT: String(PORT),
      // Its own embedded PostgreSQL, or the server in DATABASE_URL.
      DATA_DIR: dataDir,
      ...(process.env['DATABASE_URL'] && { DATABASE_URL: process.env['DATABASE_URL'] }),
      AUTH_ISSUER: issuer.issuer,
      AUTH_AUDIENCE: 'resource-service',
      LOG_LEVEL: 'warn',
    },
  });
  try {
    const reused = `Bearer ${issuer.accessToken({ scope: 'notes:read' }, { expiresIn: 3600 })}`;
    process.stdout.write(`Minting ${FRESH_TOKENS} tokens for the fresh-token scenario…\n`);
    const fresh = Array.from(
      { length: FRESH_TOKENS },
      () => `Bearer ${issuer.accessToken({ scope: 'notes:read' }, { expiresIn: 3600 })}`,
    );
    let next = 0;
    const scenarios: Scenario[] = [
      { name: 'open (@Public)', path: '/ping' },
      { name: 'guarded, reused token', path: '/ping/guarded', authorization: () => reused },
      {
        name: 'guarded, fresh token per request',
        path: '/ping/guarded',
        authorization: () => fresh[next++ % fresh.length],
      },
    ];
    // Warm-up: JIT, connection pool, the JWKS.
    for (const scenario of scenarios) await load(scenario, 2);
    const measured: Row[][] = scenarios.map(() => []);
    for (let round = 0; round < rounds; round += 1) {
      for (const [index, scenario] of scenarios.entries()) {
        measured[index].push(await load(scenario, duration));
      }
    }
    const rows = measured.map(median);
    report(rows);
    const failed = rows.filter((row) => row.failures > 0);
    if (failed.length > 0)
      throw new Error(`Requests failed in: ${failed.map((row) => row.name).join(', ')}`);
  } finally {
    await service.stop();
    await issuer.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function build(): void {
  const nx = join(root, 'node_modules/nx/dist/bin/nx.js');
  const result = spawnSync(
    process.execPath,
    [nx, 'build', 'resource-service', '--output-style=static'],
    {
      cwd: root,
      stdio: 'inherit',
      // TS_NODE_PROJECT names the bench's tsconfig; webpack's path plugin would read it too.
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', TS_NODE_PROJECT: undefined },
    },
  );
  if (result.status !== 0) throw new Error('The build failed; see above.');
}

async function load(scenario: Scenario, seconds: number): Promise<Row> {
  const { authorization } = scenario;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'GET',
        path: scenario.path,
        ...(authorization && {
          setupRequest: (request) => ({
            ...request,
            headers: { ...request.headers, authorization: authorization() },
          }),
        }),
      },
    ],
  });
  return {
    name: scenario.name,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

/** The round with the median rate, failures summed over every round. */
function median(runs: Row[]): Row {
  const sorted = [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  const failures = runs.reduce((sum, run) => sum + run.failures, 0);
  return { ...sorted[Math.floor(sorted.length / 2)], failures };
}

function report(rows: Row[]): void {
  const open = rows[0].requestsPerSecond;
  const lines = [
    `resource-service: median of ${rounds} rounds of ${duration} s per scenario, ${connections} connections; ` +
      `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    '',
    '| scenario | requests/s | p50 (ms) | p99 (ms) | vs open | failed |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (row) =>
        `| ${row.name} | ${Math.round(row.requestsPerSecond)} | ${row.p50} | ${row.p99} | ${(row.requestsPerSecond / open).toFixed(2)} | ${row.failures} |`,
    ),
    '',
    `Reused-token ratio (guarded / open): ${(rows[1].requestsPerSecond / open).toFixed(2)} (goal ≥ 0.90)`,
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
