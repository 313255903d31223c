/**
 * `npm run bench`: Tessera's performance report, measured on the built services run as real
 * processes on one PostgreSQL (an embedded one, or the server in DATABASE_URL), in production
 * mode with their production logging (one JSON line per request, read and dropped as a log
 * shipper would), metrics and security headers, printed as one table and a list of goals:
 *
 * - resource-service: what the platform and the guard cost. Reference rows first, in the same
 *   run: Node's own HTTP server and a minimal NestJS-on-Fastify app (tools/bench/references/),
 *   each answering GET /ping with the same JSON. Then GET /ping open (@Public), GET /health/live,
 *   and GET /ping/guarded needing a valid token with notes:read: with one reused token (the
 *   normal client) and with a token never seen before on every request (each a full ES256
 *   verification, set beside the rate at which the servers' core checks ES256 signatures with
 *   node:crypto, measured in each round right after it);
 *   then open and guarded again once 100 000 sessions have been revoked through the revocation
 *   feed. Tokens come from an in-process TestIssuer, so signing costs the service nothing.
 * - the gateway (apps/gateway): the same guarded read, GET /notes with one reused token, direct
 *   and through the gateway (GET /api/notes: the edge verifies too, then forwards), in one phase;
 *   the ratio of their rates and the p50 the gateway adds. On two cores both processes share the
 *   servers' core; from three on, the gateway has one of its own. In the same phase, a second
 *   gateway in phantom-token mode (ACCESS_TOKEN_FORMAT=reference) with one reused reference
 *   token, its JWT cached after the warm-up, against the gateway in JWT mode; and a bare
 *   @fastify/http-proxy (references/bare-proxy.mjs) on the gateway's core: what the proxy plugin
 *   alone leaves of the direct rate.
 * - auth-service: POST /auth/refresh (one rotation per request, each connection following its
 *   own session), POST /oauth/token with client credentials (a signed token per request), each
 *   beside node-oidc-provider doing the same (tools/bench/references/oidc-provider.mjs), and
 *   POST /auth/login (argon2id-bound, so fewer connections).
 * - each service: cold start (process start → /health/ready answering 200, migrations already
 *   applied), with the CPU time the process had used by then (on a shared machine the wall time
 *   says more about the neighbours than about the service), and resident memory idle and after
 *   its load; beside them, what loading the stack's packages alone costs
 *   (references/stack-floor.mjs).
 *
 * Where `taskset` exists, every server runs on core 0 and this process (the load generator) on
 * core 1, so a row measures the server, not the two fighting for a core. The scenarios of a phase
 * take turns for BENCH_ROUNDS rounds (default 5) of BENCH_DURATION seconds each (default 3), and
 * each row reports its median round: turns plus a median keep a passing disturbance out of a
 * ratio. A ratio of two rows of one phase is the median of their per-round ratios: each round
 * measures both within seconds of each other, so a slow drift of the machine cancels out. BENCH_CONNECTIONS (default 50) sets the concurrency (login uses a fifth of it).
 * BENCH_ONLY=resource-service (or auth-service) runs that service's part alone.
 */
import { TestIssuer } from '@tessera/auth-testing';
import {
  createTestDatabase,
  ServiceProcess,
  startTestPostgres,
  TEST_POSTGRES_URL_VARIABLE,
} from '@tessera/platform-testing';
import type { ServiceProcessOptions } from '@tessera/platform-testing';
import autocannon from 'autocannon';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const AUTH_PORT = 13091;
const RESOURCE_PORT = 13092;
const GATEWAY_PORT = 13096;
const PHANTOM_GATEWAY_PORT = 13097;
const authUrl = `http://127.0.0.1:${AUTH_PORT}`;
const resourceUrl = `http://127.0.0.1:${RESOURCE_PORT}`;
const gatewayUrl = `http://127.0.0.1:${GATEWAY_PORT}`;
const phantomGatewayUrl = `http://127.0.0.1:${PHANTOM_GATEWAY_PORT}`;
const only = process.env['BENCH_ONLY'];
const duration = Number(process.env['BENCH_DURATION'] ?? 3);
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 5);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 50);
/** More than the guard's verification cache holds (10 000), so cycling through them never hits it. */
const FRESH_TOKENS = 30_000;
/** Revoked sessions announced before the second phase (the guard must not slow down). */
const REVOKED_SESSIONS = 100_000;
/** The servers' core and the load generator's, where taskset can pin them (Linux, two cores or more). */
const PINNED = cpus().length >= 2 && spawnSync('taskset', ['-V']).status === 0;
const SERVER_CPUS = PINNED ? '0' : undefined;
/**
 * The gateway's core: its own where there are three (a gateway is deployed apart from the services
 * it fronts), else the services' core, shared with resource-service.
 */
const EDGE_CPUS = PINNED && cpus().length >= 3 ? '2' : SERVER_CPUS;
const REFERENCE_PORTS = {
  rawHttp: 13093,
  minimalNest: 13094,
  oidcProvider: 13095,
  bareProxy: 13098,
};

/** A load of HTTP requests, or a rate measured another way (`rate`: the ES256 reference). */
type Scenario = HttpScenario | RateScenario;

/** Not HTTP: a function that works for `seconds` and answers how many operations a second. */
interface RateScenario {
  name: string;
  service: string;
  rate: (seconds: number) => Promise<number>;
}

interface HttpScenario {
  name: string;
  url: string;
  path: string;
  method?: 'GET' | 'POST';
  connections?: number;
  headers?: Record<string, string>;
  body?: string;
  /** A new Authorization header per request (autocannon rebuilds each request: costs the load generator). */
  nextAuthorization?: () => string;
  /** Builds each request's body; `context` is shared with that request's onResponse. */
  nextBody?: (context: Record<string, unknown>) => string;
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
  /** Runs after each round, outside the measured time. */
  afterRound?: () => Promise<void>;
}

interface Row {
  service: string;
  name: string;
  requestsPerSecond?: number;
  p50?: number;
  p99?: number;
  failures?: number;
  note?: string;
  /** The rate of each round, in round order (rows that `measure` made). */
  roundRates?: number[];
}

/** A target from docs/performance.md: a measured value against the bound it must meet. */
interface Goal {
  name: string;
  value: number;
  /** `min`: value ≥ bound; `max`: value ≤ bound. */
  kind: 'min' | 'max';
  bound: number;
  unit: string;
}

const goals: Goal[] = [];
/** What the stack or the plugins cost before any of Tessera's code, measured in the same run. */
const floors: string[] = [];

const MB = (bytes: number | undefined) =>
  bytes === undefined ? 'n/a' : `${Math.round(bytes / 2 ** 20)} MB`;

async function main(): Promise<void> {
  build();
  // This process and every thread of it (autocannon's sockets run on its event loop) on core 1.
  if (PINNED)
    spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const postgres = await startTestPostgres();
  process.env[TEST_POSTGRES_URL_VARIABLE] = postgres.url;
  try {
    const rows = [
      ...(only === 'auth-service' ? [] : await benchResourceService()),
      ...(only === 'resource-service' ? [] : await benchAuthService()),
    ];
    report(rows);
    reportGoals();
    const failed = rows.filter((row) => (row.failures ?? 0) > 0);
    if (failed.length > 0)
      throw new Error(`Requests failed in: ${failed.map((row) => row.name).join(', ')}`);
  } finally {
    await postgres.stop();
  }
}

async function benchResourceService(): Promise<Row[]> {
  const service = 'resource-service';
  const secret = randomBytes(32).toString('base64url');
  const gatewaySecret = randomBytes(32).toString('base64url');
  const issuer = await TestIssuer.start({
    audience: 'resource-service',
    clients: { 'resource-service': secret, gateway: gatewaySecret },
  });
  const options: ServiceProcessOptions = {
    main: join(root, 'dist/apps/resource-service/main.js'),
    url: resourceUrl,
    timeoutMs: 60_000,
    pollIntervalMs: 10,
    cpus: SERVER_CPUS,
    discardOutput: true,
    env: {
      NODE_ENV: 'production',
      PORT: String(RESOURCE_PORT),
      DATABASE_URL: await createTestDatabase('bench_resource'),
      AUTH_ISSUER: issuer.issuer,
      AUTH_AUDIENCE: 'resource-service',
      // It follows the issuer's revocation feed, as with auth-service.
      AUTH_CLIENT_SECRET: secret,
      LOG_LEVEL: 'info',
    },
  };
  let running = await ServiceProcess.start(options);
  const references = [
    await Reference.start(
      'raw node:http',
      ['tools/bench/references/raw-http.mjs'],
      REFERENCE_PORTS.rawHttp,
    ),
    await Reference.start(
      'minimal NestJS on Fastify',
      ['-r', 'ts-node/register/transpile-only', 'tools/bench/references/minimal-nest.ts'],
      REFERENCE_PORTS.minimalNest,
    ),
  ];
  try {
    const stack = stackFloor();
    const coldStart = await restart(running, options);
    running = coldStart.service;
    const idle = running.residentBytes();
    const reused = `Bearer ${issuer.accessToken({ scope: 'notes:read' }, { expiresIn: 3600 })}`;
    process.stdout.write(`Minting ${FRESH_TOKENS} tokens for the fresh-token scenario…\n`);
    const fresh = Array.from(
      { length: FRESH_TOKENS },
      () => `Bearer ${issuer.accessToken({ scope: 'notes:read' }, { expiresIn: 3600 })}`,
    );
    const signatureChecks: RateScenario = {
      name: "ES256 signature checks, node:crypto, one core (the servers')",
      service: 'reference',
      rate: (seconds) => es256ChecksPerSecond(fresh, issuer, seconds),
    };
    let next = 0;
    const [rawHttp, minimalNest] = references.map(
      (reference): Scenario => ({
        name: `GET /ping, reference: ${reference.name}`,
        url: reference.url,
        path: '/ping',
      }),
    );
    const open: Scenario = { name: 'GET /ping (open, @Public)', url: resourceUrl, path: '/ping' };
    const live: Scenario = { name: 'GET /health/live', url: resourceUrl, path: '/health/live' };
    const guarded = (revoked: string): Scenario[] => [
      {
        name: `GET /ping/guarded, reused token${revoked}`,
        url: resourceUrl,
        path: '/ping/guarded',
        headers: { authorization: reused },
      },
      {
        name: `GET /ping/guarded, fresh token per request${revoked}`,
        url: resourceUrl,
        path: '/ping/guarded',
        nextAuthorization: () => fresh[next++ % fresh.length],
      },
    ];
    // The ES256 reference runs in each round right after the fresh-token row, on the core the
    // service has, so that their ratio is paired like the others.
    const [rawRow, nestRow, openRow, liveRow, reusedRow, freshRow, signatureRow] = await measure(
      service,
      [rawHttp, minimalNest, open, live, ...guarded(''), signatureChecks],
    );
    const edge = await benchGateway(issuer, gatewaySecret, reused);
    process.stdout.write(`Revoking ${REVOKED_SESSIONS} sessions through the revocation feed…\n`);
    await revokeSessions(issuer, REVOKED_SESSIONS);
    const second = await measure(service, [
      { ...open, name: `${open.name}, second phase` },
      ...guarded(`, ${REVOKED_SESSIONS / 1000}k revoked sessions`),
    ]);
    const versus = (row: Row, reference: Row, label: string) => {
      const ratio = pairedRatio(row, reference);
      row.note = `${ratio.toFixed(2)} of ${label}`;
      return ratio;
    };
    versus(rawRow, nestRow, 'minimal Nest');
    goals.push(
      ratioGoal(
        'open route (production logging, metrics, headers) vs minimal Nest',
        versus(openRow, nestRow, 'minimal Nest'),
        0.6,
      ),
      ratioGoal('GET /health/live vs minimal Nest', versus(liveRow, nestRow, 'minimal Nest'), 0.8),
      ratioGoal('guarded, reused token vs open', versus(reusedRow, openRow, 'open'), 0.95),
      ratioGoal(
        'guarded, fresh token vs one core checking ES256 signatures',
        versus(freshRow, signatureRow, "one core's ES256 checks"),
        0.4,
      ),
      ratioGoal(
        `guarded, reused token vs open, ${REVOKED_SESSIONS / 1000}k revoked`,
        versus(second[1], second[0], 'open'),
        0.95,
      ),
    );
    versus(second[2], second[0], 'open');
    const loaded = running.residentBytes();
    startUpGoals(service, coldStart.ms, loaded);
    return [
      {
        service: 'reference',
        name: "loading the stack's packages alone (tools/bench/references/stack-floor.mjs)",
        note: `${stack.ms} ms (CPU ${stack.cpuMs} ms), ${MB(stack.residentBytes)} resident`,
      },
      rawRow,
      nestRow,
      openRow,
      liveRow,
      reusedRow,
      freshRow,
      signatureRow,
      ...second,
      ...edge,
      ...startUpRows(service, coldStart, idle, loaded),
    ];
  } finally {
    await running.stop();
    for (const reference of references) await reference.stop();
    await issuer.stop();
  }
}

/**
 * The same guarded read (GET /notes, one reused token with notes:read) direct and through the
 * gateway, which verifies it too and forwards it: one phase, so each round measures both.
 */
async function benchGateway(issuer: TestIssuer, secret: string, authorization: string) {
  const startGateway = (port: number, url: string, env: Record<string, string> = {}) =>
    ServiceProcess.start({
      main: join(root, 'dist/apps/gateway/main.js'),
      url,
      timeoutMs: 60_000,
      cpus: EDGE_CPUS,
      discardOutput: true,
      env: {
        NODE_ENV: 'production',
        PORT: String(port),
        AUTH_ISSUER: issuer.issuer,
        AUTH_CLIENT_SECRET: secret,
        UPSTREAMS: `resource-service=${resourceUrl},auth-service=${authUrl}`,
        // One caller sends every request: a budget it never reaches.
        RATE_LIMIT_MAX: '1000000',
        LOG_LEVEL: 'info',
        ...env,
      },
    });
  const gateway = await startGateway(GATEWAY_PORT, gatewayUrl);
  const phantom = await startGateway(PHANTOM_GATEWAY_PORT, phantomGatewayUrl, {
    ACCESS_TOKEN_FORMAT: 'reference',
  });
  const bareProxy = await Reference.start(
    'bare @fastify/http-proxy',
    ['tools/bench/references/bare-proxy.mjs'],
    REFERENCE_PORTS.bareProxy,
    '/ping',
    { UPSTREAM: resourceUrl },
    EDGE_CPUS,
  );
  try {
    const headers = { authorization };
    const reference = issuer.referenceToken({ scope: 'notes:read' }, { expiresIn: 3600 });
    // The warm-up's first request swaps the reference; every measured one finds its JWT cached.
    const [direct, bare, edge, swapped] = await measure('gateway', [
      { name: 'GET /notes, reused token, direct', url: resourceUrl, path: '/notes', headers },
      {
        name: 'GET /api/notes, reused token, reference: bare @fastify/http-proxy',
        url: bareProxy.url,
        path: '/api/notes',
        headers,
      },
      {
        name: 'GET /api/notes, reused token, through the gateway',
        url: gatewayUrl,
        path: '/api/notes',
        headers,
      },
      {
        name: 'GET /api/notes, reused reference token, phantom-token gateway',
        url: phantomGatewayUrl,
        path: '/api/notes',
        headers: { authorization: `Bearer ${reference}` },
      },
    ]);
    const ratio = pairedRatio(edge, direct);
    const added = (edge.p50 ?? 0) - (direct.p50 ?? 0);
    edge.note = `${ratio.toFixed(2)} of direct; p50 +${added.toFixed(1)} ms`;
    const bareRatio = pairedRatio(bare, direct);
    bare.note = `${bareRatio.toFixed(2)} of direct`;
    floors.push(
      `a bare @fastify/http-proxy in front of resource-service (bare-proxy.mjs), ` +
        `${EDGE_CPUS === SERVER_CPUS ? 'on the same core' : 'on a core of its own'}: ` +
        `${bareRatio.toFixed(2)} × direct, against the gateway's goal of 0.60 ×`,
    );
    const phantomRatio = pairedRatio(swapped, edge);
    swapped.note = `${phantomRatio.toFixed(2)} of JWT mode; p50 ${signed((swapped.p50 ?? 0) - (edge.p50 ?? 0))} ms`;
    goals.push(
      ratioGoal('guarded read through the gateway vs direct', ratio, 0.6),
      ratioGoal('phantom-token mode, warm cache, vs JWT mode', phantomRatio, 0.9),
    );
    return [direct, bare, edge, swapped];
  } finally {
    await bareProxy.stop();
    await phantom.stop();
    await gateway.stop();
  }
}

/** A difference with its sign: +1.5 or -0.3. */
function signed(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(1)}`;
}

/**
 * How many ES256 signatures of these tokens one core checks per second with node:crypto, as the
 * verifier does (`crypto.verify`, IEEE P1363 signatures): a process of its own on the servers'
 * core (taskset), for `seconds`, checking a sample of the tokens in turn.
 */
interface StackFloor {
  ms: number;
  cpuMs: number;
  residentBytes: number;
}

/**
 * How long loading the template's stack takes, and how much memory it holds, before any code of
 * Tessera's runs (tools/bench/references/stack-floor.mjs): three processes on the servers' core,
 * the median. The floor under the cold-start and memory goals.
 */
function stackFloor(): StackFloor {
  const node = [process.execPath, 'tools/bench/references/stack-floor.mjs'];
  const [command, ...args] = SERVER_CPUS ? ['taskset', '-c', SERVER_CPUS, ...node] : node;
  const runs = [0, 1, 2].map(() => {
    const result = spawnSync(command, args, { cwd: root, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`The stack-floor reference failed: ${result.stderr}`);
    return JSON.parse(result.stdout) as StackFloor;
  });
  const median = runs.sort((a, b) => a.ms - b.ms)[1];
  floors.push(
    `loading the stack's packages, nothing else (stack-floor.mjs): ${median.ms} ms ` +
      `(CPU ${median.cpuMs} ms) and ${MB(median.residentBytes)} resident, against the goals of ` +
      `500 ms to ready and 130 MB after the load`,
  );
  return median;
}

async function es256ChecksPerSecond(
  authorizations: string[],
  issuer: TestIssuer,
  seconds: number,
): Promise<number> {
  const sample = authorizations.slice(0, 1000).map((authorization) => {
    const token = authorization.slice('Bearer '.length);
    const dot = token.lastIndexOf('.');
    return [token.slice(0, dot), token.slice(dot + 1)];
  });
  const input = JSON.stringify({
    key: issuer.currentKey.publicKey.export({ format: 'jwk' }),
    sample,
    seconds,
  });
  const script = `
    const { createPublicKey, verify } = require('node:crypto');
    let input = '';
    process.stdin.on('data', (chunk) => (input += chunk));
    process.stdin.on('end', () => {
      const { key, sample, seconds } = JSON.parse(input);
      const publicKey = { key: createPublicKey({ key, format: 'jwk' }), dsaEncoding: 'ieee-p1363' };
      const tokens = sample.map(([data, signature]) => ({
        data: Buffer.from(data),
        signature: Buffer.from(signature, 'base64url'),
      }));
      let checks = 0;
      const started = performance.now();
      while (performance.now() - started < seconds * 1000) {
        const { data, signature } = tokens[checks % tokens.length];
        if (!verify('sha256', data, publicKey, signature)) throw new Error('a minted token failed its check');
        checks += 1;
      }
      console.log(checks / ((performance.now() - started) / 1000));
    });`;
  const [command, args] = SERVER_CPUS
    ? ['taskset', ['-c', SERVER_CPUS, process.execPath, '-e', script]]
    : [process.execPath, ['-e', script]];
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdin.end(input);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const rate = Number(output.trim());
  if (code !== 0 || !Number.isFinite(rate)) {
    throw new Error(`The ES256 reference failed (exit ${code}): ${output}`);
  }
  return rate;
}

function ratioGoal(name: string, value: number, bound: number): Goal {
  return { name, value, kind: 'min', bound, unit: '×' };
}

function startUpGoals(service: string, coldStartMs: number, loadedBytes: number | undefined): void {
  goals.push({
    name: `${service} cold start`,
    value: coldStartMs,
    kind: 'max',
    bound: 500,
    unit: 'ms',
  });
  if (loadedBytes !== undefined) {
    goals.push({
      name: `${service} resident memory after its load`,
      value: Math.round(loadedBytes / 2 ** 20),
      kind: 'max',
      bound: 130,
      unit: 'MB',
    });
  }
}

/** A reference server (tools/bench/references/), run like the services: pinned, on loopback. */
class Reference {
  private constructor(
    readonly name: string,
    readonly url: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(
    name: string,
    args: string[],
    port: number,
    readyPath = '/ping',
    env: Record<string, string> = {},
    cpus = SERVER_CPUS,
  ): Promise<Reference> {
    const node = [process.execPath, ...args];
    const [command, ...rest] = cpus ? ['taskset', '-c', cpus, ...node] : node;
    const child = spawn(command, rest, {
      cwd: root,
      env: { ...process.env, ...env, PORT: String(port), NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // Its request lines read and dropped, as the services' are (a pipe, like a log shipper's).
    child.stdout?.resume();
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    while (
      (await fetch(`${url}${readyPath}`).then(
        (r) => r.status,
        () => 0,
      )) === 0
    ) {
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`The reference ${name} did not start`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return new Reference(name, url, child);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

async function benchAuthService(): Promise<Row[]> {
  const service = 'auth-service';
  const secret = randomBytes(32).toString('base64url');
  const options: ServiceProcessOptions = {
    main: join(root, 'dist/apps/auth-service/main.js'),
    url: authUrl,
    timeoutMs: 60_000,
    pollIntervalMs: 10,
    cpus: SERVER_CPUS,
    discardOutput: true,
    env: {
      NODE_ENV: 'production',
      PORT: String(AUTH_PORT),
      DATABASE_URL: await createTestDatabase('bench_auth'),
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ISSUER: authUrl,
      CLIENT_SECRETS: `resource-service=${secret}`,
      LOG_LEVEL: 'info',
    },
  };
  // Its tokens and grants in a PostgreSQL database of its own, as Tessera's sessions are.
  const oidcProvider = await Reference.start(
    'node-oidc-provider',
    ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', 'tools/bench/references/oidc-provider.mjs'],
    REFERENCE_PORTS.oidcProvider,
    '/health',
    {
      CLIENT_SECRET: secret,
      LOG_LEVEL: 'info',
      DATABASE_URL: await createTestDatabase('bench_oidc_provider'),
    },
  );
  let running = await ServiceProcess.start(options).catch(async (error: unknown) => {
    await oidcProvider.stop();
    throw error;
  });
  try {
    const coldStart = await restart(running, options);
    running = coldStart.service;
    const idle = running.residentBytes();
    const account = { email: 'bench@example.com', password: 'a long passphrase for the bench' };
    const json = { 'content-type': 'application/json' };
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    await post('/auth/register', account);

    // One session per connection, each refreshed in turn: a rotation per request (rotation()).
    // Requests still in flight when a round ends lose their answers; Tessera's spent tokens are
    // sent again at once, inside REFRESH_REUSE_GRACE, which gives back the same successor.
    process.stdout.write(`Signing in ${connections} sessions for the refresh scenario…\n`);
    const sessions: string[] = [];
    for (let session = 0; session < connections; session += 1) {
      sessions.push((await post('/auth/login', account))['refresh_token'] as string);
    }
    const refresh = rotation({
      name: 'POST /auth/refresh (rotation)',
      url: authUrl,
      path: '/auth/refresh',
      headers: json,
      body: (token) => JSON.stringify({ refresh_token: token }),
      tokens: sessions,
      recover: async (lost) => {
        const successors: string[] = [];
        for (const token of lost) {
          successors.push(
            (await post('/auth/refresh', { refresh_token: token }))['refresh_token'] as string,
          );
        }
        return successors;
      },
    });
    // node-oidc-provider, the same grant: its refresh tokens come from its bench-only endpoint
    // (a sign-in there goes through its interactive authorization endpoint), and one whose answer
    // was lost is never sent again (that revokes its grant, as in Tessera past the grace).
    const grants = (count: number) =>
      postTo(`${oidcProvider.url}/bench/refresh-tokens?count=${count}`).then(
        (answer) => answer['refresh_tokens'] as string[],
      );
    const referenceRefresh = rotation({
      name: 'POST /token (refresh rotation), reference: node-oidc-provider',
      url: oidcProvider.url,
      path: '/token',
      headers: form,
      body: (token) =>
        new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: 'tessera-first-party',
          refresh_token: token,
        }).toString(),
      tokens: await grants(connections),
      recover: (lost) => grants(lost.length),
    });
    const clientCredentialsRequest = {
      method: 'POST' as const,
      headers: {
        ...form,
        authorization: `Basic ${Buffer.from(`resource-service:${secret}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials&scope=tokens%3Aintrospect',
    };
    const clientCredentials: Scenario = {
      name: 'POST /oauth/token (client credentials)',
      url: authUrl,
      path: '/oauth/token',
      ...clientCredentialsRequest,
    };
    const referenceClientCredentials: Scenario = {
      name: 'POST /token (client credentials), reference: node-oidc-provider',
      url: oidcProvider.url,
      path: '/token',
      ...clientCredentialsRequest,
    };
    // One account per login connection: login throttling counts an attempt in flight against its
    // account and address until it succeeds, so many concurrent logins to one account are throttled
    // on purpose (docs/security-model.md), and that is not what this row measures.
    const loginConnections = Math.max(1, Math.round(connections / 5));
    const loginBodies: string[] = [];
    for (let index = 0; index < loginConnections; index += 1) {
      const other = { ...account, email: `bench-${index}@example.com` };
      await post('/auth/register', other);
      loginBodies.push(JSON.stringify(other));
    }
    let nextLogin = 0;
    const login: Scenario = {
      name: 'POST /auth/login (argon2id)',
      url: authUrl,
      path: '/auth/login',
      method: 'POST',
      connections: loginConnections,
      headers: json,
      nextBody: () => loginBodies[nextLogin++ % loginBodies.length],
    };
    const [refreshRow, referenceRefreshRow, credentialsRow, referenceCredentialsRow, loginRow] =
      await measure(service, [
        refresh,
        referenceRefresh,
        clientCredentials,
        referenceClientCredentials,
        login,
      ]);
    const versusReference = pairedRatio(credentialsRow, referenceCredentialsRow);
    credentialsRow.note = `${versusReference.toFixed(2)} of node-oidc-provider`;
    refreshRow.note = `${pairedRatio(refreshRow, referenceRefreshRow).toFixed(2)} of node-oidc-provider`;
    goals.push(
      ratioGoal('POST /oauth/token client credentials vs node-oidc-provider', versusReference, 1.2),
    );
    const loaded = running.residentBytes();
    startUpGoals(service, coldStart.ms, loaded);
    return [
      refreshRow,
      referenceRefreshRow,
      credentialsRow,
      referenceCredentialsRow,
      loginRow,
      ...startUpRows(service, coldStart, idle, loaded),
    ];
  } finally {
    await running.stop();
    await oidcProvider.stop();
  }
}

/**
 * A refresh-token grant, one rotation per request, over a pool of tokens: a request takes a token
 * off the free list and its answer puts the successor back, so no token is ever used twice at
 * once (autocannon's context lives for one request here, not a connection). After each round,
 * `recover` turns the tokens whose answers were lost into usable ones.
 */
function rotation(options: {
  name: string;
  url: string;
  path: string;
  headers: Record<string, string>;
  body: (token: string) => string;
  tokens: string[];
  recover: (lost: string[]) => Promise<string[]>;
}): Scenario {
  const free = [...options.tokens];
  const inFlight = new Set<string>();
  return {
    name: options.name,
    url: options.url,
    path: options.path,
    method: 'POST',
    headers: options.headers,
    nextBody: (context) => {
      const token = free.pop() ?? '';
      context['token'] = token;
      inFlight.add(token);
      return options.body(token);
    },
    onResponse: (status, body, context) => {
      const token = context['token'] as string;
      inFlight.delete(token);
      if (status === 200) free.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
      else inFlight.add(token);
    },
    afterRound: async () => {
      const lost = [...inFlight];
      inFlight.clear();
      if (lost.length > 0) free.push(...(await options.recover(lost)));
    },
  };
}

function startUpRows(service: string, start: ColdStart, idle?: number, loaded?: number): Row[] {
  const cpu = start.cpu
    ? ` (CPU ${start.cpu.mainThreadMs} ms on the main thread, ${start.cpu.allThreadsMs} ms in all threads)`
    : '';
  return [
    { service, name: 'cold start', note: `${start.ms} ms to ready${cpu}` },
    { service, name: 'resident memory', note: `${MB(idle)} idle, ${MB(loaded)} after the load` },
  ];
}

/**
 * Stops the service and starts it again on its (migrated) database; the restart's time to ready
 * and the CPU time the process had used by then.
 */
async function restart(
  running: ServiceProcess,
  options: ServiceProcessOptions,
): Promise<ColdStart & { service: ServiceProcess }> {
  await running.stop();
  const started = performance.now();
  const service = await ServiceProcess.start(options);
  const ms = Math.round(performance.now() - started);
  return { ms, cpu: cpuTimeOf(service.pid), service };
}

interface ColdStart {
  ms: number;
  cpu?: StartUpCpu;
}

interface StartUpCpu {
  mainThreadMs: number;
  allThreadsMs: number;
}

/**
 * User + system CPU time of a process so far, its main thread's and all its threads' (V8's
 * compiler and garbage-collector threads, libuv's pool), from /proc; undefined without /proc.
 */
function cpuTimeOf(pid: number | undefined): StartUpCpu | undefined {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return undefined;
  const ticksPerSecond =
    Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
  const milliseconds = (path: string) => {
    const stat = readFileSync(path, 'utf8');
    // Fields 14 and 15 (utime, stime), counted after the command name's closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Math.round(((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond);
  };
  return {
    mainThreadMs: milliseconds(`/proc/${pid}/task/${pid}/stat`),
    allThreadsMs: milliseconds(`/proc/${pid}/stat`),
  };
}

async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
  return postTo(`${authUrl}${path}`, body);
}

async function postTo(url: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  const text = await response.text();
  if (!response.ok && response.status !== 409)
    throw new Error(`${url} answered ${response.status}: ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** Takes turns over the scenarios for `rounds` rounds after a warm-up; the median round of each. */
async function measure(service: string, scenarios: Scenario[]): Promise<Row[]> {
  // Warm-up: JIT, connection pools, the JWKS.
  for (const scenario of scenarios) await load(service, scenario, 2);
  const measured: Row[][] = scenarios.map(() => []);
  for (let round = 0; round < rounds; round += 1) {
    for (const [index, scenario] of scenarios.entries()) {
      measured[index].push(await load(service, scenario, duration));
    }
  }
  return measured.map(median);
}

/**
 * `row` against `reference`: the median of their per-round ratios when both come from one
 * `measure` (each round ran them back to back), else the ratio of their rates.
 */
function pairedRatio(row: Row, reference: Row): number {
  const [rates, references] = [row.roundRates, reference.roundRates];
  if (!rates || !references || rates.length !== references.length) {
    return (row.requestsPerSecond ?? 0) / (reference.requestsPerSecond ?? 1);
  }
  const ratios = rates.map((value, index) => value / references[index]).sort((a, b) => a - b);
  return ratios[Math.floor(ratios.length / 2)];
}

/** Announces `count` revoked sessions and waits until the service refuses the last one's token. */
async function revokeSessions(issuer: TestIssuer, count: number): Promise<void> {
  const sids = Array.from({ length: count }, (_, index) => `revoked-session-${index}`);
  issuer.announceRevocation({ sids });
  const last = `Bearer ${issuer.accessToken({ scope: 'notes:read', sid: sids[count - 1] })}`;
  const started = Date.now();
  while (
    (await fetch(`${resourceUrl}/ping/guarded`, { headers: { authorization: last } })).status !==
    401
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
    [
      nx,
      'run-many',
      '-t',
      'build',
      '-p',
      'auth-service',
      'resource-service',
      'gateway',
      '--output-style=static',
    ],
    {
      cwd: root,
      stdio: 'inherit',
      // TS_NODE_PROJECT names the bench's tsconfig; webpack's path plugin would read it too.
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', TS_NODE_PROJECT: undefined },
    },
  );
  if (result.status !== 0) throw new Error('The build failed; see above.');
}

async function load(service: string, scenario: Scenario, seconds: number): Promise<Row> {
  if ('rate' in scenario) {
    return {
      service: scenario.service,
      name: scenario.name,
      requestsPerSecond: await scenario.rate(seconds),
    };
  }
  const { nextAuthorization, nextBody, onResponse } = scenario;
  const result = await autocannon({
    url: scenario.url,
    connections: scenario.connections ?? connections,
    duration: seconds,
    requests: [
      {
        method: scenario.method ?? 'GET',
        path: scenario.path,
        ...(scenario.headers && { headers: scenario.headers }),
        ...(scenario.body !== undefined && { body: scenario.body }),
        ...((nextAuthorization || nextBody) && {
          setupRequest: (request, context) => ({
            ...request,
            ...(nextBody && { body: nextBody(context as Record<string, unknown>) }),
            ...(nextAuthorization && {
              headers: { ...request.headers, authorization: nextAuthorization() },
            }),
          }),
        }),
        ...(onResponse && {
          onResponse: (status: number, body: string, context: object) =>
            onResponse(status, body, context as Record<string, unknown>),
        }),
      },
    ],
  });
  await scenario.afterRound?.();
  return {
    service,
    name: scenario.name,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

/** The round with the median rate, failures summed over every round. */
function median(runs: Row[]): Row {
  const sorted = [...runs].sort((a, b) => (a.requestsPerSecond ?? 0) - (b.requestsPerSecond ?? 0));
  const failures = runs.reduce((sum, run) => sum + (run.failures ?? 0), 0);
  const roundRates = runs.map((run) => run.requestsPerSecond ?? 0);
  return { ...sorted[Math.floor(sorted.length / 2)], failures, roundRates };
}

function report(rows: Row[]): void {
  const cell = (value: number | undefined) =>
    value === undefined ? '' : String(Math.round(value));
  const lines = [
    `Median of ${rounds} rounds of ${duration} s per scenario, ${connections} connections (login: ${Math.max(1, Math.round(connections / 5))}); ` +
      `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ` +
      (PINNED
        ? 'servers pinned to core 0, the load generator to core 1 (taskset).'
        : 'the load generator shares the cores with the servers (no taskset).'),
    '',
    '| service | scenario | requests/s | p50 (ms) | p99 (ms) | failed | note |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      (row) =>
        `| ${row.service} | ${row.name} | ${cell(row.requestsPerSecond)} | ${cell(row.p50)} | ${cell(row.p99)} | ${cell(row.failures)} | ${row.note ?? ''} |`,
    ),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
}

/** Each goal of docs/performance.md with what this run measured. */
function reportGoals(): void {
  const format = (goal: Goal, value: number) =>
    goal.unit === '×' ? `${value.toFixed(2)} ×` : `${Math.round(value)} ${goal.unit}`;
  const lines = [
    '| goal | measured | target | met |',
    '| --- | ---: | ---: | --- |',
    ...goals.map((goal) => {
      const met = goal.kind === 'min' ? goal.value >= goal.bound : goal.value <= goal.bound;
      const target = `${goal.kind === 'min' ? '≥' : '≤'} ${format(goal, goal.bound)}`;
      return `| ${goal.name} | ${format(goal, goal.value)} | ${target} | ${met ? 'yes' : '**no**'} |`;
    }),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
  if (floors.length > 0) {
    process.stdout.write(
      `\nWhat no code of Tessera's can go below, measured in this run:\n\n${floors
        .map((floor) => `- ${floor}`)
        .join('\n')}\n`,
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
