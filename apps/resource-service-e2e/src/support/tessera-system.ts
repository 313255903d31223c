import { createTestDatabase, ServiceProcess, TcpProxy } from '@tessera/platform-testing';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Client } from 'pg';

/**
 * auth-service and resource-service as built, real processes on loopback, each on its own test
 * database, wired the way docker-compose wires them: resource-service trusts auth-service's
 * issuer and calls it as the `resource-service` client. Every suite picks its own ports.
 */
export interface TesseraSystem {
  issuer: string;
  resourceUrl: string;
  /** With `gatewayPort`: the gateway in front of both (apps/gateway, its real routes.json). */
  gatewayUrl?: string;
  clientSecret: string;
  authDatabase: string;
  resourceDatabase: string;
  auth: ServiceProcess;
  resource: ServiceProcess;
  gateway?: ServiceProcess;
  /** With `databaseProxies`: cut one to take that service's PostgreSQL away, restore to bring it back. */
  authDatabaseProxy?: TcpProxy;
  resourceDatabaseProxy?: TcpProxy;
  /** Starts auth-service again (after a stop) on the same database and key. */
  restartAuth(): Promise<ServiceProcess>;
  /** Starts resource-service again (after a stop) on the same database. */
  restartResource(): Promise<ServiceProcess>;
  /** Stops both, resource-service first; resolves with their exit codes. */
  stop(): Promise<[number | null, number | null]>;
}

export interface TesseraSystemOptions {
  authPort: number;
  resourcePort: number;
  /** Also runs the built gateway on this port, in front of both, as npm start wires it. */
  gatewayPort?: number;
  /** A prefix for the test databases' names. */
  name: string;
  authEnv?: Record<string, string>;
  /** Another auth-service bundle than the build in dist (a suite's variant of that build). */
  authMain?: string;
  resourceEnv?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
  /** Each service reaches its database through a TcpProxy the test can cut (O1). */
  databaseProxies?: boolean;
}

const dist = (name: string) => resolve(__dirname, '../../../../dist/apps', name, 'main.js');

export async function startTesseraSystem(options: TesseraSystemOptions): Promise<TesseraSystem> {
  const issuer = `http://127.0.0.1:${options.authPort}`;
  const resourceUrl = `http://127.0.0.1:${options.resourcePort}`;
  const clientSecret = randomBytes(32).toString('base64url');
  const gatewaySecret = randomBytes(32).toString('base64url');
  const [authDatabase, resourceDatabase] = await Promise.all([
    createTestDatabase(`${options.name}_auth`),
    createTestDatabase(`${options.name}_resource`),
  ]);
  const [authDatabaseProxy, resourceDatabaseProxy] = options.databaseProxies
    ? await Promise.all([authDatabase, resourceDatabase].map((url) => TcpProxy.start(new URL(url))))
    : [];
  const authEnv = {
    NODE_ENV: 'test',
    PORT: String(options.authPort),
    DATABASE_URL: authDatabaseProxy?.rewrite(authDatabase) ?? authDatabase,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ISSUER: issuer,
    CLIENT_SECRETS: `resource-service=${clientSecret},gateway=${gatewaySecret}`,
    LOG_LEVEL: 'info',
    ...(options.gatewayPort && { TRUST_PROXY: '127.0.0.1' }),
    // The suites sign up and sign in about a thousand times: argon2id at 1 MiB and one pass
    // (allowed with NODE_ENV=test only) costs about 1 ms of CPU a hash, OWASP's 19 MiB and two
    // passes about 50. load.spec signs in at production's cost.
    PASSWORD_HASH_MEMORY_KIB: '1024',
    PASSWORD_HASH_PASSES: '1',
    ...options.authEnv,
  };
  // Every process of the system, restarts included: stop() reads all their logs.
  const started: ServiceProcess[] = [];
  const track = async (starting: Promise<ServiceProcess>) => {
    const service = await starting;
    started.push(service);
    return service;
  };
  const startAuth = () =>
    track(
      ServiceProcess.start({
        main: options.authMain ?? dist('auth-service'),
        url: issuer,
        env: authEnv,
      }),
    );
  const startResource = () =>
    track(
      ServiceProcess.start({
        main: dist('resource-service'),
        url: resourceUrl,
        env: {
          NODE_ENV: 'test',
          PORT: String(options.resourcePort),
          DATABASE_URL: resourceDatabaseProxy?.rewrite(resourceDatabase) ?? resourceDatabase,
          AUTH_ISSUER: issuer,
          AUTH_CLIENT_SECRET: clientSecret,
          LOG_LEVEL: 'info',
          // Behind the gateway, as npm start runs it: its X-Forwarded-For names the caller.
          ...(options.gatewayPort && { TRUST_PROXY: '127.0.0.1' }),
          ...options.resourceEnv,
        },
      }),
    );

  const system: TesseraSystem = {
    issuer,
    resourceUrl,
    clientSecret,
    authDatabase,
    resourceDatabase,
    authDatabaseProxy,
    resourceDatabaseProxy,
    auth: await startAuth(),
    resource: await startResource(),
    async restartAuth() {
      system.auth = await startAuth();
      return system.auth;
    },
    async restartResource() {
      system.resource = await startResource();
      return system.resource;
    },
    async stop() {
      // A failed assertion may have left a database cut: the services need it to close their pools.
      const proxies = [authDatabaseProxy, resourceDatabaseProxy].filter((proxy) => !!proxy);
      await Promise.all(proxies.map((proxy) => proxy.restore()));
      const gateway = await system.gateway?.stop();
      if (gateway !== undefined && gateway !== 0) {
        console.error(`gateway exited with ${gateway}:\n${system.gateway?.logs.slice(-4000)}`);
      }
      const resource = await system.resource.stop();
      const auth = await system.auth.stop();
      await Promise.all(proxies.map((proxy) => proxy.stop()));
      for (const [name, code, process] of [
        ['resource-service', resource, system.resource],
        ['auth-service', auth, system.auth],
      ] as const) {
        if (code !== 0) console.error(`${name} exited with ${code}:\n${process.logs.slice(-4000)}`);
      }
      // Every suite that runs the system proves R27 on everything the services logged.
      const secrets = [clientSecret, gatewaySecret, authEnv.KEY_ENCRYPTION_KEY];
      const leaked = started.flatMap((service) => credentialsIn(service.logs, secrets));
      if (leaked.length > 0) {
        throw new Error(`The services logged credentials (R27): ${leaked.join(', ')}`);
      }
      if (gateway !== undefined && gateway !== 0)
        throw new Error(`The gateway exited with ${gateway}`);
      return [resource, auth];
    },
  };
  if (options.gatewayPort) {
    system.gatewayUrl = `http://127.0.0.1:${options.gatewayPort}`;
    system.gateway = await track(
      ServiceProcess.start({
        main: dist('gateway'),
        url: system.gatewayUrl,
        env: {
          NODE_ENV: 'test',
          PORT: String(options.gatewayPort),
          AUTH_ISSUER: issuer,
          AUTH_CLIENT_SECRET: gatewaySecret,
          UPSTREAMS: `auth-service=${issuer},resource-service=${resourceUrl}`,
          LOG_LEVEL: 'info',
          ...options.gatewayEnv,
        },
      }),
    );
  }
  return system;
}

export interface HttpAnswer {
  status: number;
  challenge: string | null;
  retryAfter: string | null;
  body: Record<string, unknown>;
  /** Wall-clock milliseconds from sending to the whole body. */
  ms: number;
}

/** One JSON request; `token` goes in as a bearer token. */
export async function call(
  url: string,
  method: string,
  body?: unknown,
  token?: string,
): Promise<HttpAnswer> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers['authorization'] = `Bearer ${token}`;
  const started = performance.now();
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    retryAfter: response.headers.get('retry-after'),
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
    ms: performance.now() - started,
  };
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
}

/**
 * Registers `email` (if new) and logs in with the first-party client, for both APIs a test calls:
 * resource-service's notes and auth-service's account API (`/auth/sessions`, …).
 */
export async function registerAndLogin(
  issuer: string,
  email: string,
  password = 'correct horse battery staple',
): Promise<TokenPair> {
  await withRetryAfter(() => call(`${issuer}/auth/register`, 'POST', { email, password }));
  const login = await withRetryAfter(() =>
    call(`${issuer}/auth/login`, 'POST', {
      email,
      password,
      resource: ['auth-service', 'resource-service'],
    }),
  );
  if (login.status !== 200) throw new Error(`login failed: ${JSON.stringify(login)}`);
  return login.body as unknown as TokenPair;
}

/**
 * Signs `email` up and gives it the admin role as `create-admin` does (in SQL here, sparing a
 * process start); its access token for auth-service's /admin routes.
 */
export async function adminLogin(system: TesseraSystem, email: string): Promise<string> {
  const password = 'correct horse battery staple';
  await registerAndLogin(system.issuer, email, password);
  const database = new Client({ connectionString: system.authDatabase });
  await database.connect();
  try {
    await database.query(`UPDATE users SET roles = '{user,admin}' WHERE email = $1`, [email]);
  } finally {
    await database.end();
  }
  const login = await call(`${system.issuer}/auth/login`, 'POST', {
    email,
    password,
    resource: 'auth-service',
    scope: 'admin',
  });
  if (login.status !== 200) throw new Error(`admin login failed: ${JSON.stringify(login)}`);
  return (login.body as unknown as TokenPair).access_token;
}

/**
 * A 503 with Retry-After is the services' documented answer when their database is briefly out
 * of reach (here: many suites and argon2 sharing two cores at start-up); a client waits and asks
 * again, as this does, at most three times.
 */
export async function withRetryAfter(send: () => Promise<HttpAnswer>): Promise<HttpAnswer> {
  let answer = await send();
  for (let attempt = 1; attempt < 3 && answer.status === 503 && answer.retryAfter; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, Number(answer.retryAfter) * 1000));
    answer = await send();
  }
  return answer;
}

/** The decoded payload of a JWT, unverified: for reading `exp` or `sid` in a test. */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
}

/**
 * What must never be in a log line (R27): by shape, a JWT, a bearer credential, a refresh-token
 * cookie, or a password or secret field that was not redacted; and each of `secrets` (the
 * system's client secret and key-encryption key). A match is reported by its first characters.
 */
const CREDENTIAL_PATTERNS = [
  /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*/g,
  /Bearer [A-Za-z0-9._~+/-]{8,}/g,
  /tessera_refresh=[\w-]{8,}/g,
  /"(?:password|current_password|new_password|client_secret|refresh_token)":"(?!\[Redacted\])[^"]+"/g,
];

export function credentialsIn(logs: string, secrets: readonly string[] = []): string[] {
  const matches = [
    ...CREDENTIAL_PATTERNS.flatMap((pattern) =>
      [...logs.matchAll(pattern)].map(([match]) => match),
    ),
    ...secrets.filter((secret) => logs.includes(secret)),
  ];
  return matches.map((match) => `${match.slice(0, 12)}…`);
}
