/**
 * `npm run bench`: what the guard costs, measured against the built resource-service run as a
 * real process. One answer behind two doors (GET /ping open, GET /ping/guarded needing a valid
 * token with notes:read) is loaded with autocannon: open, guarded with one reused token (the
 * normal client), and guarded with a token never seen before on every request (each a full
 * ES256 verification); then the two guarded scenarios again once 100 000 sessions have been
 * revoked through the revocation feed. Tokens come from an in-process TestIssuer, so signing
 * costs the service nothing and auth-service is not needed.
 *
 * The scenarios of a phase take turns for BENCH_ROUNDS rounds (default 5) of BENCH_DURATION
 * seconds each (default 3), and each row reports its median round: the load generator shares the machine, and
 * turns plus a median keep a passing disturbance out of the ratio. BENCH_CONNECTIONS (default 50)
 * sets the concurrency.
 */
import { TestIssuer } from '@tessera/auth/testing';
import { ServiceProcess } from '@tessera/platform/testing';
import autocannon from 'autocannon';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const PORT = 13092;
const url = `http://127.0.0.1:${PORT}`;
const duration = Number(process.env['BENCH_DURATION'] ?? 3);
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 5);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 50);
/** More than the guard's verification cache holds (10 000), so cycling through them never hits it. */
const FRESH_TOKENS = 30_000;

interface Scenario {
  name: string;
  path: string;
  /** One Authorization header for every request: autocannon sends the same bytes each time, as for the open route. */
  authorization?: string;
  /** A new Authorization header per request (autocannon rebuilds each request: costs the load generator). */
  nextAuthorization?: () => string;
}

interface Row {
  name: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  failures: number;
}

/** Revoked sessions announced before the second phase (issue: the guard must not slow down). */
const REVOKED_SESSIONS = 100_000;

async function main(): Promise<void> {
  build();
  const secret = randomBytes(32).toString('base64url');
  const issuer = await TestIssuer.start({
    audience: 'resource-service',
    clients: { 'resource-service': secret },
  });
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
      // It follows the issuer's revocation feed, as with auth-service.
      AUTH_CLIENT_SECRET: secret,
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
    const freshToken = () => fresh[next++ % fresh.length];
    const open: Scenario = { name: 'open (@Public)', path: '/ping' };
    const guarded = (revoked: string): Scenario[] => [
      {
        name: `guarded, reused token${revoked}`,
        path: '/ping/guarded',
        authorization: reused,
      },
      {
        name: `guarded, fresh token per request${revoked}`,
        path: '/ping/guarded',
        nextAuthorization: freshToken,
      },
    ];
    const rows = await measure([open, ...guarded('')]);

    process.stdout.write(`Revoking ${REVOKED_SESSIONS} sessions through the revocation feed…\n`);
    await revokeSessions(issuer, REVOKED_SESSIONS);
    rows.push(
      ...(await measure([
        { ...open, name: `${open.name}, second phase` },
        ...guarded(`, ${REVOKED_SESSIONS / 1000}k revoked sessions`),
      ])),
    );
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

/** Takes turns over the scenarios for `rounds` rounds after a warm-up; the median round of each. */
async function measure(scenarios: Scenario[]): Promise<Row[]> {
  // Warm-up: JIT, connection pool, the JWKS.
  for (const scenario of scenarios) await load(scenario, 2);
  const measured: Row[][] = scenarios.map(() => []);
  for (let round = 0; round < rounds; round += 1) {
    for (const [index, scenario] of scenarios.entries()) {
      measured[index].push(await load(scenario, duration));
    }
  }
  return measured.map(median);
}

/** Announces `count` revoked sessions and waits until the service refuses the last one's token. */
async function revokeSessions(issuer: TestIssuer, count: number): Promise<void> {
  const sids = Array.from({ length: count }, (_, index) => `revoked-session-${index}`);
  issuer.announceRevocation({ sids });
  const last = `Bearer ${issuer.accessToken({ scope: 'notes:read', sid: sids[count - 1] })}`;
  const started = Date.now();
  while (
    (await fetch(`${url}/ping/guarded`, { headers: { authorization: last } })).status !== 401
  ) {
    if (Date.now() - started > 60_000) throw new Error('The service never learned the revocations');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  process.stdout.write(`…applied in ${Date.now() - started} ms\n`);
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
  const { authorization, nextAuthorization } = scenario;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'GET',
        path: scenario.path,
        ...(authorization && { headers: { authorization } }),
        ...(nextAuthorization && {
          setupRequest: (request) => ({
            ...request,
            headers: { ...request.headers, authorization: nextAuthorization() },
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

/** Two phases of three rows: open, reused, fresh; each guarded row is compared with its phase's open row. */
function report(rows: Row[]): void {
  const ratio = (index: number) =>
    rows[index].requestsPerSecond / rows[index < 3 ? 0 : 3].requestsPerSecond;
  const lines = [
    `resource-service: median of ${rounds} rounds of ${duration} s per scenario, ${connections} connections; ` +
      `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    '',
    '| scenario | requests/s | p50 (ms) | p99 (ms) | vs open | failed |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (row, index) =>
        `| ${row.name} | ${Math.round(row.requestsPerSecond)} | ${row.p50} | ${row.p99} | ${ratio(index).toFixed(2)} | ${row.failures} |`,
    ),
    '',
    `Reused-token ratio (guarded / open): ${ratio(1).toFixed(2)} (goal ≥ 0.90); ` +
      `with ${REVOKED_SESSIONS} revoked sessions: ${ratio(4).toFixed(2)}`,
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
