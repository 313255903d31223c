import {
  composeServiceEnvironment,
  composeTestValue,
  composeVariableReferences,
  readComposeFile,
  ServiceProcess,
  TEST_POSTGRES_URL_VARIABLE,
} from '@tessera/platform/testing';
import type { ComposeFile, VariableSource } from '@tessera/platform/testing';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { Client } from 'pg';

const root = resolve(__dirname, '../../..');
const composePath = resolve(root, 'docker-compose.yml');
const initSqlPath = resolve(root, 'docker/postgres/init.sql');
/** Set on the databases this suite creates, so that it never drops one it did not make. */
const MARK = 'created by apps/system-e2e/src/compose-parity.spec.ts';

interface AppService {
  name: string;
  /** The environment docker-compose.yml gives its container. */
  environment: Record<string, string>;
  /** The database its DATABASE_URL names; undefined for a stateless service (none). */
  database: string | undefined;
  /** depends_on as a map of service name to condition, whichever form the file uses. */
  dependsOn: Record<string, string>;
}

/**
 * What `docker-compose up` would run, checked without Docker: the init script on a real
 * PostgreSQL, and each service built from this repository run as a process with exactly the
 * environment docker-compose.yml gives its container.
 */
describe('docker-compose.yml, run without Docker', () => {
  const admin = new URL(testPostgresUrl());
  const compose = readComposeFile(composePath, composeVariables(admin));
  const services = appServices(compose);
  const databases = services.flatMap((service) => (service.database ? [service.database] : []));
  const running: ServiceProcess[] = [];

  beforeAll(async () => {
    await dropDatabasesOfEarlierRuns(databases);
    await runInitSql();
  });

  afterAll(async () => {
    // A failed assertion must not leave services running.
    for (const service of running.reverse()) await service.stop('SIGTERM');
    await dropDatabasesOfEarlierRuns(databases);
  });

  it('describes at least the two services, each built from its own Dockerfile', () => {
    expect(services.map((service) => service.name)).toEqual(
      expect.arrayContaining(['auth-service', 'resource-service']),
    );
    for (const { name } of services) {
      expect(compose.services[name]['build']).toMatchObject({
        context: '.',
        dockerfile: `apps/${name}/Dockerfile`,
      });
    }
  });

  it('makes every service wait until the services its environment points at are healthy', () => {
    for (const service of services) {
      const pointedAt = Object.values(service.environment)
        .map((value) => (URL.canParse(value) ? new URL(value).hostname : ''))
        .filter((host) => host in compose.services);
      expect(pointedAt.length).toBeGreaterThan(0);
      for (const host of pointedAt) {
        expect({ service: service.name, host, condition: service.dependsOn[host] }).toEqual({
          service: service.name,
          host,
          condition: 'service_healthy',
        });
      }
    }
  });

  it('creates with docker/postgres/init.sql a separate database for every service that has one', async () => {
    expect(databases).toContain('auth');
    expect(new Set(databases).size).toBe(databases.length);
    const existing = await withClient(admin, (client) =>
      client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = ANY($1)', [
        databases,
      ]),
    );
    expect(existing.rows.map((row) => row.datname).sort()).toEqual([...databases].sort());
  });

  it('starts each service ready with its compose environment, migrating only its own database, and each exits 0 on SIGTERM', async () => {
    // Only host names and ports are mapped: in the compose network PostgreSQL is postgres:5432 and
    // each service listens on its PORT and METRICS_PORT; here they are the test server and free
    // loopback ports.
    // Every other value, HOST=0.0.0.0 and NODE_ENV=production included, is docker-compose.yml's own.
    const ports = new Map<string, number>();
    for (const service of services) ports.set(service.name, await freePort());
    const hosts = new Map([['postgres:5432', admin.host]]);
    for (const service of services) {
      hosts.set(
        `${service.name}:${service.environment['PORT']}`,
        `127.0.0.1:${ports.get(service.name)}`,
      );
    }

    const started: string[] = [];
    const migrationsAtStart = new Map<string, string[]>();
    for (const service of inDependencyOrder(services)) {
      const port = ports.get(service.name) as number;
      const instance = await ServiceProcess.start({
        main: resolve(root, 'dist/apps', service.name, 'main.js'),
        env: onTestHosts(service.environment, hosts, port, await freePort()),
        url: `http://127.0.0.1:${port}`,
        timeoutMs: 60_000,
      });
      running.push(instance);
      started.push(service.name);

      if (service.database) {
        const migrations = await appliedMigrations(service.database);
        expect({ database: service.database, migrated: migrations.length > 0 }).toEqual({
          database: service.database,
          migrated: true,
        });
        migrationsAtStart.set(service.database, migrations);
      }
      for (const later of services.filter((other) => !started.includes(other.name))) {
        if (!later.database) continue;
        expect({ database: later.database, tables: await tableCount(later.database) }).toEqual({
          database: later.database,
          tables: 0,
        });
      }
    }

    // Nor did a service started later touch the database of one started before it.
    for (const [database, migrations] of migrationsAtStart) {
      expect({ database, migrations: await appliedMigrations(database) }).toEqual({
        database,
        migrations,
      });
    }

    while (running.length > 0) {
      const instance = running.pop() as ServiceProcess;
      expect(await instance.stop('SIGTERM')).toBe(0);
    }
  });

  /** The variables docker-compose would take from .env: the test server's user and password. */
  function composeVariables(server: URL): VariableSource {
    const variables: VariableSource = {
      POSTGRES_USER: decodeURIComponent(server.username),
      POSTGRES_PASSWORD: decodeURIComponent(server.password),
    };
    // Any other required variable gets a test value; the optional ones keep their compose defaults.
    const raw = readComposeFile(composePath);
    for (const reference of composeVariableReferences(raw)) {
      if (reference.operator?.endsWith('?')) {
        variables[reference.name] ??= composeTestValue(reference.name);
      }
    }
    return variables;
  }

  async function dropDatabasesOfEarlierRuns(databases: string[]): Promise<void> {
    await withClient(admin, async (client) => {
      const existing = await client.query<{ datname: string; comment: string | null }>(
        "SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = ANY($1)",
        [databases],
      );
      for (const { datname, comment } of existing.rows) {
        if (comment !== MARK) {
          throw new Error(
            `Database "${datname}" exists on the test server and was not made by this suite; not dropping it`,
          );
        }
        await client.query(`DROP DATABASE ${client.escapeIdentifier(datname)} WITH (FORCE)`);
      }
    });
  }

  async function runInitSql(): Promise<void> {
    await withClient(admin, async (client) => {
      // One statement at a time, as psql in the postgres image sends them: CREATE DATABASE cannot
      // run inside the implicit transaction of a multi-statement query.
      for (const statement of sqlStatements(readFileSync(initSqlPath, 'utf8'))) {
        await client.query(statement);
      }
      for (const database of databases) {
        await client.query(
          `COMMENT ON DATABASE ${client.escapeIdentifier(database)} IS ${client.escapeLiteral(MARK)}`,
        );
      }
    });
  }

  async function appliedMigrations(database: string): Promise<string[]> {
    return withClient(onDatabase(admin, database), async (client) => {
      const table = await client.query<{ present: boolean }>(
        "SELECT to_regclass('public.migrations') IS NOT NULL AS present",
      );
      if (!table.rows[0].present) return [];
      const rows = await client.query<{ name: string }>('SELECT name FROM migrations ORDER BY id');
      return rows.rows.map((row) => row.name);
    });
  }

  async function tableCount(database: string): Promise<number> {
    return withClient(onDatabase(admin, database), async (client) => {
      const result = await client.query<{ count: string }>(
        "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
      );
      return Number(result.rows[0].count);
    });
  }
});

function testPostgresUrl(): string {
  const url = process.env[TEST_POSTGRES_URL_VARIABLE];
  if (!url) {
    throw new Error(
      `${TEST_POSTGRES_URL_VARIABLE} is not set: this suite needs @tessera/platform's Jest global setup`,
    );
  }
  return url;
}

/** The services built from this repository (those with `build:`), in the order the file lists them. */
function appServices(compose: ComposeFile): AppService[] {
  return Object.entries(compose.services)
    .filter(([, definition]) => definition['build'] !== undefined)
    .map(([name, definition]) => {
      const environment = definedOnly(composeServiceEnvironment(compose, name));
      const dependsOn = (definition['depends_on'] ?? {}) as
        | string[]
        | Record<string, { condition?: string }>;
      return {
        name,
        environment,
        database:
          environment['DATABASE_URL'] === undefined
            ? undefined
            : new URL(environment['DATABASE_URL']).pathname.slice(1),
        dependsOn: Array.isArray(dependsOn)
          ? Object.fromEntries(dependsOn.map((other) => [other, 'service_started']))
          : Object.fromEntries(
              Object.entries(dependsOn).map(([other, { condition }]) => [
                other,
                condition ?? 'service_started',
              ]),
            ),
      };
    });
}

/** The services ordered so that each comes after the services of this repository it depends on. */
function inDependencyOrder(services: AppService[]): AppService[] {
  const ordered: AppService[] = [];
  const names = services.map((service) => service.name);
  while (ordered.length < services.length) {
    const next = services.find(
      (service) =>
        !ordered.includes(service) &&
        Object.keys(service.dependsOn).every(
          (other) => !names.includes(other) || ordered.some((done) => done.name === other),
        ),
    );
    if (!next) throw new Error(`depends_on has a cycle among ${names.join(', ')}`);
    ordered.push(next);
  }
  return ordered;
}

/** Variables docker-compose passes through from the shell have no value here; leave them out. */
function definedOnly(environment: VariableSource): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    ),
  );
}

/** The compose environment with compose host:port pairs replaced by test ones, and PORT set. */
function onTestHosts(
  environment: Record<string, string>,
  hosts: Map<string, string>,
  port: number,
  metricsPort: number,
): Record<string, string> {
  const mapped = Object.entries(environment).map(([name, value]) => {
    if (name === 'PORT') return [name, String(port)];
    if (name === 'METRICS_PORT') return [name, String(metricsPort)];
    const url = URL.canParse(value) ? new URL(value) : undefined;
    const testHost = url && hosts.get(`${url.hostname}:${url.port || defaultPort(url.protocol)}`);
    if (!url || !testHost) return [name, value];
    url.host = testHost;
    // A bare origin (http://auth-service:3001) stays one: URL would add a trailing slash.
    const mappedValue = url.toString();
    const bareOrigin = url.pathname === '/' && !value.endsWith('/') && !url.search;
    return [name, bareOrigin ? mappedValue.slice(0, -1) : mappedValue];
  });
  return Object.fromEntries(mapped);
}

function defaultPort(protocol: string): string {
  return (
    { 'postgres:': '5432', 'postgresql:': '5432', 'http:': '80', 'https:': '443' }[protocol] ?? ''
  );
}

function onDatabase(server: URL, database: string): URL {
  const url = new URL(server);
  url.pathname = `/${database}`;
  return url;
}

/** init.sql's statements: comments dropped, split at each `;` (it is plain SQL, no functions). */
function sqlStatements(sql: string): string[] {
  return sql
    .replace(/--.*$/gm, '')
    .split(';')
    .map((statement) => statement.trim())
    .filter(Boolean);
}

async function withClient<T>(url: URL, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}
