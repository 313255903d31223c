import {
  composeServiceEnvironment,
  composeServiceMounts,
  composeV2Problems,
  composeVariableReferences,
  ComposeVolumes,
  readComposeFile,
  ServiceProcess,
  TEST_POSTGRES_URL_VARIABLE,
} from '@tessera/platform-testing';
import type { ComposeFile, VariableSource } from '@tessera/platform-testing';
import Ajv from 'ajv';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';

const root = resolve(__dirname, '../../..');
const composePath = resolve(root, 'docker-compose.yml');
const initSqlPath = resolve(root, 'docker/postgres/init.sql');
/** The roles init.sql makes: each service's owner and service roles. */
const initRoles = [...readFileSync(initSqlPath, 'utf8').matchAll(/^CREATE ROLE (\w+)/gm)].map(
  (match) => match[1],
);
/** Set on the databases and the roles this suite creates, so that it never drops one it did not make. */
const MARK = 'created by apps/system-e2e/src/compose-parity.spec.ts';
/** The one-shot service that fills the secrets volume before anything else starts. */
const SECRETS = 'secrets';
/**
 * The only variable this suite sets, as a `.env` could: the PostgreSQL superuser the compose
 * postgres container would create. The test server is shared, and `tessera` may be a real role on
 * it. Every secret comes, as in a first `docker-compose up`, from the secrets service.
 */
const VARIABLES: VariableSource = { POSTGRES_USER: 'tessera_compose_parity' };

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
 * What `docker-compose up` would run, checked without Docker, with no variable set but
 * POSTGRES_USER: the secrets service's script run into a folder standing in for the `secrets`
 * volume, PostgreSQL's superuser made with the password it generated and the init script run as
 * that user on a real PostgreSQL, and each service built from this repository run as a process
 * with exactly the environment docker-compose.yml gives its container, the secrets files included.
 */
describe('docker-compose.yml, run without Docker', () => {
  const admin = new URL(testPostgresUrl());
  const compose = readComposeFile(composePath, VARIABLES);
  const services = appServices(compose);
  const databases = services.flatMap((service) => (service.database ? [service.database] : []));
  const postgresUser = composeServiceEnvironment(compose, 'postgres')['POSTGRES_USER'] as string;
  const volumesFolder = mkdtempSync(join(tmpdir(), 'tessera-compose-volumes-'));
  const volumes = new ComposeVolumes(compose, root, volumesFolder);
  const running: ServiceProcess[] = [];

  beforeAll(async () => {
    await dropEarlierRuns(databases);
    volumes.runNodeService(SECRETS, definedOnly(composeServiceEnvironment(compose, SECRETS)));
    await startPostgresAsComposeWould();
  });

  afterAll(async () => {
    // A failed assertion must not leave services running.
    for (const service of running.reverse()) await service.stop('SIGTERM');
    await dropEarlierRuns(databases);
    rmSync(volumesFolder, { recursive: true, force: true });
  });

  it('needs no variable set: every ${…} in it has a default', () => {
    const raw = readComposeFile(composePath);
    const required = composeVariableReferences(raw).filter((reference) =>
      reference.operator?.endsWith('?'),
    );
    expect(required.map((reference) => reference.name)).toEqual([]);
    expect(() => readComposeFile(composePath, {})).not.toThrow();
  });

  it('is valid, with no variable set, against the Compose Specification schema that Compose v2 loads it with', () => {
    // Compose v2 (compose-go) validates the interpolated file against the Compose Specification's
    // JSON schema before anything else; CI's machines have only docker-compose v1. dclint (a
    // devDependency) ships that schema (draft-07 form) in its package.
    const schema = JSON.parse(
      readFileSync(join(root, 'node_modules/dclint/schemas/compose.schema.json'), 'utf8'),
    ) as object;
    // Its $schema names draft-07 by an https URL that Ajv does not register; the schema itself is
    // draft-07, which Ajv's default class is.
    const validate = new Ajv({ allErrors: true, strict: false, validateSchema: false }).compile(
      schema,
    );
    const valid = validate(readComposeFile(composePath, {}));
    expect(valid ? [] : validate.errors).toEqual([]);
    // It does refuse: a key the specification does not have.
    const broken = readComposeFile(composePath, {});
    (broken.services['auth-service'] as Record<string, unknown>)['restart_policy'] = 'always';
    expect(validate(broken)).toBe(false);
  });

  it('keeps, with no variable set, the rules Compose v2 checks beyond its JSON schema', () => {
    // `docker compose config` (compose-go) refuses what these catch; docker-compose v1, which CI
    // runs, does not check them all.
    expect(composeV2Problems(readComposeFile(composePath, {}), root)).toEqual([]);
  });

  it('starts a one-shot secrets service first, which every container reading the secrets waits for', () => {
    const secrets = compose.services[SECRETS];
    expect(secrets).toMatchObject({ restart: 'no' });
    expect(secrets['build']).toBeUndefined();
    const volume = composeServiceMounts(compose, SECRETS, root).find(
      (mount) => !mount.bind && !mount.readOnly,
    );
    expect(volume).toBeDefined();
    const readers = Object.keys(compose.services).filter(
      (name) =>
        name !== SECRETS &&
        composeServiceMounts(compose, name, root).some((mount) => mount.source === volume?.source),
    );
    expect(readers).toEqual(
      expect.arrayContaining(['postgres', ...services.map((service) => service.name)]),
    );
    for (const name of readers) {
      const mount = composeServiceMounts(compose, name, root).find(
        (candidate) => candidate.source === volume?.source,
      );
      expect({ name, readOnly: mount?.readOnly, condition: dependsOn(name)[SECRETS] }).toEqual({
        name,
        readOnly: true,
        condition: 'service_completed_successfully',
      });
    }
  });

  it('gives every container each secret it reads through a *_FILE variable, generated in the secrets volume', () => {
    const fileVariables = ['postgres', ...services.map((service) => service.name)].flatMap((name) =>
      Object.entries(definedOnly(composeServiceEnvironment(compose, name)))
        .filter(([variable]) => variable.endsWith('_FILE'))
        .map(([variable, path]) => ({ name, variable, path })),
    );
    expect(fileVariables.map(({ variable }) => variable)).toEqual(
      expect.arrayContaining([
        'POSTGRES_PASSWORD_FILE',
        'DATABASE_PASSWORD_FILE',
        'KEY_ENCRYPTION_KEY_FILE',
        'CLIENT_SECRETS_FILE',
        'AUTH_CLIENT_SECRET_FILE',
      ]),
    );
    for (const { name, variable, path } of fileVariables) {
      expect({ name, variable, generated: secretFile(name, path).length >= 32 }).toEqual({
        name,
        variable,
        generated: true,
      });
    }
  });

  it("gives each service that calls auth-service the client secret auth-service's CLIENT_SECRETS has for it", () => {
    const auth = services.find((service) => service.name === 'auth-service') as AppService;
    const clientSecrets = secretFile('auth-service', auth.environment['CLIENT_SECRETS_FILE']).split(
      ',',
    );
    const clients = services.filter((service) => service.environment['AUTH_CLIENT_ID']);
    expect(clients.map((service) => service.name)).toContain('resource-service');
    for (const service of clients) {
      const id = service.environment['AUTH_CLIENT_ID'];
      const secret = secretFile(service.name, service.environment['AUTH_CLIENT_SECRET_FILE']);
      expect({ id, listed: clientSecrets.includes(`${id}=${secret}`) }).toEqual({
        id,
        listed: true,
      });
    }
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
      // Where its spans and events go, only started: spans are buffered and sent again, events
      // wait in the outbox and the broker client reconnects, and neither may hold a service back.
      const startedOnly = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'NATS_URL']
        .map((name) => service.environment[name])
        .filter((value) => value !== undefined && URL.canParse(value))
        .map((value) => new URL(value).hostname);
      for (const host of pointedAt) {
        expect({ service: service.name, host, condition: service.dependsOn[host] }).toEqual({
          service: service.name,
          host,
          condition: startedOnly.includes(host) ? 'service_started' : 'service_healthy',
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
        env: onTestHosts(
          volumes.onHost(service.name, service.environment),
          hosts,
          port,
          await freePort(),
        ),
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

    // auth-service took the generated client secrets: resource-service's gets it a token.
    const resource = services.find((service) => service.name === 'resource-service') as AppService;
    const token = await fetch(`http://127.0.0.1:${ports.get('auth-service')}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: resource.environment['AUTH_CLIENT_ID'],
        client_secret: secretFile(resource.name, resource.environment['AUTH_CLIENT_SECRET_FILE']),
      }),
    });
    expect(token.status).toBe(200);

    while (running.length > 0) {
      const instance = running.pop() as ServiceProcess;
      expect(await instance.stop('SIGTERM')).toBe(0);
    }
  });

  it("gives each service a role of its own that cannot read another service's database, nor rewrite the audit log", async () => {
    // PostgreSQL's init runs init.sql first, then database-roles.sh (the roles' passwords).
    const initScripts = composeServiceMounts(compose, 'postgres', root)
      .filter((mount) => mount.target.startsWith('/docker-entrypoint-initdb.d/'))
      .sort((a, b) => a.target.localeCompare(b.target))
      .map((mount) => mount.source);
    expect(initScripts).toEqual([initSqlPath, resolve(root, 'docker/postgres/database-roles.sh')]);
    // No service gets the superuser's password, nor logs in as it.
    for (const service of services) {
      expect(Object.values(service.environment)).not.toContain(
        '/run/secrets/tessera/postgres-password',
      );
    }

    /** A login as the role `variable`'s URL names, with the password the container reads. */
    const loginOf = (name: string, variable: string, database?: string) => {
      const service = services.find((candidate) => candidate.name === name) as AppService;
      const url = new URL(service.environment[variable]);
      url.host = admin.host;
      url.password = encodeURIComponent(
        secretFile(name, service.environment[`${variable.replace(/_URL$/, '_PASSWORD')}_FILE`]),
      );
      if (database) url.pathname = `/${database}`;
      return url;
    };
    const refusal = (url: URL, sql = 'SELECT 1') =>
      withClient(url, (client) => client.query(sql)).then(
        () => 'allowed',
        (error: Error) => error.message,
      );

    // resource-service's role, in to auth's database, and auth-service's into resource's: refused.
    expect(await refusal(loginOf('resource-service', 'DATABASE_URL', 'auth'))).toBe(
      'permission denied for database "auth"',
    );
    expect(await refusal(loginOf('auth-service', 'DATABASE_URL', 'resource'))).toBe(
      'permission denied for database "resource"',
    );

    const authService = loginOf('auth-service', 'DATABASE_URL');
    expect(new URL(authService).username).toBe('auth_service');
    expect(await refusal(authService, 'SELECT count(*) FROM audit_events')).toBe('allowed');
    for (const attack of [
      `UPDATE audit_events SET type = 'logout'`,
      'DELETE FROM audit_events',
      'TRUNCATE audit_events',
    ]) {
      expect({ attack, answer: await refusal(authService, attack) }).toEqual({
        attack,
        answer: 'permission denied for table audit_events',
      });
    }
    for (const attack of [
      'ALTER TABLE audit_events DISABLE TRIGGER ALL',
      'ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_or_delete',
      'DROP TRIGGER audit_events_no_update_or_delete ON audit_events',
      'DROP TABLE audit_events',
    ]) {
      expect({ attack, answer: await refusal(authService, attack) }).toEqual({
        attack,
        answer: expect.stringMatching(/^must be owner of (table|relation) audit_events$/),
      });
    }
    for (const [attack, answer] of [
      ['CREATE ROLE intruder SUPERUSER', 'permission denied to create role'],
      ['CREATE DATABASE intruder', 'permission denied to create database'],
      [`COPY (SELECT 1) TO PROGRAM 'id'`, expect.stringContaining('permission denied to COPY')],
      ['CREATE TABLE intruder (id int)', 'permission denied for schema public'],
    ]) {
      expect({ attack, answer: await refusal(authService, attack as string) }).toEqual({
        attack,
        answer,
      });
    }
    // Retention still works, through the owner's pruning function.
    expect(await refusal(authService, 'SELECT audit_events_prune(365)')).toBe('allowed');

    // Neither role of either service is more than a login.
    const roles = await withClient(admin, (client) =>
      client.query<{
        rolname: string;
        rolsuper: boolean;
        rolcreaterole: boolean;
        rolcreatedb: boolean;
      }>(
        'SELECT rolname, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname',
        [initRoles],
      ),
    );
    expect(roles.rows).toEqual(
      [...initRoles].sort().map((rolname) => ({
        rolname,
        rolsuper: false,
        rolcreaterole: false,
        rolcreatedb: false,
      })),
    );
  });

  /** The content of a secret file as `service`'s container sees it at `path`. */
  function secretFile(service: string, path: string | undefined): string {
    const hostPath = path && volumes.hostPath(service, path);
    if (!hostPath) throw new Error(`${service}: ${path} is in none of its volumes`);
    return readFileSync(hostPath, 'utf8').replace(/\r?\n$/, '');
  }

  function dependsOn(name: string): Record<string, string> {
    return dependsOnOf(compose.services[name]['depends_on']);
  }

  /** Drops what an earlier run left: its databases, then its role. */
  async function dropEarlierRuns(databases: string[]): Promise<void> {
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
      const roles = await client.query<{ rolname: string; comment: string | null }>(
        "SELECT rolname, shobj_description(oid, 'pg_authid') AS comment FROM pg_roles WHERE rolname = ANY($1)",
        [[...initRoles, postgresUser]],
      );
      for (const { rolname, comment } of roles.rows) {
        if (comment !== MARK) {
          throw new Error(
            `Role "${rolname}" exists on the test server and was not made by this suite; not dropping it`,
          );
        }
      }
      // The superuser last: init.sql's roles were made by it.
      for (const role of [...initRoles, postgresUser]) {
        if (roles.rows.some((row) => row.rolname === role)) {
          await client.query(`DROP ROLE ${client.escapeIdentifier(role)}`);
        }
      }
    });
  }

  /**
   * What the postgres image does on a new volume: makes POSTGRES_USER the superuser with the
   * password in POSTGRES_PASSWORD_FILE, then runs the init scripts as that user, in the order of
   * their names: init.sql, then database-roles.sh, which runs the secrets service's
   * database-roles.sql. Here the user is made on the test server and both SQL files run as it,
   * which proves the generated passwords.
   */
  async function startPostgresAsComposeWould(): Promise<void> {
    const environment = definedOnly(composeServiceEnvironment(compose, 'postgres'));
    if (environment['POSTGRES_PASSWORD'] !== undefined) {
      throw new Error(
        'postgres gets POSTGRES_PASSWORD: its image refuses it next to POSTGRES_PASSWORD_FILE',
      );
    }
    const password = secretFile('postgres', environment['POSTGRES_PASSWORD_FILE']);
    await withClient(admin, async (client) => {
      const role = client.escapeIdentifier(postgresUser);
      await client.query(
        `CREATE ROLE ${role} LOGIN SUPERUSER PASSWORD ${client.escapeLiteral(password)}`,
      );
      await client.query(`COMMENT ON ROLE ${role} IS ${client.escapeLiteral(MARK)}`);
    });
    const asUser = new URL(admin);
    asUser.username = encodeURIComponent(postgresUser);
    asUser.password = encodeURIComponent(password);
    await withClient(asUser, async (client) => {
      // One statement at a time, as psql in the postgres image sends them: CREATE DATABASE cannot
      // run inside the implicit transaction of a multi-statement query.
      for (const statement of sqlStatements(readFileSync(initSqlPath, 'utf8'))) {
        await client.query(statement);
      }
      for (const role of initRoles) {
        await client.query(
          `COMMENT ON ROLE ${client.escapeIdentifier(role)} IS ${client.escapeLiteral(MARK)}`,
        );
      }
      for (const database of databases) {
        await client.query(
          `COMMENT ON DATABASE ${client.escapeIdentifier(database)} IS ${client.escapeLiteral(MARK)}`,
        );
      }
      // database-roles.sh: the roles' passwords, as the secrets service wrote them.
      for (const statement of sqlStatements(
        secretFile('postgres', '/run/secrets/tessera/database-roles.sql'),
      )) {
        await client.query(statement);
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

/**
 * The services built from this repository (those with `build:`), in the order the file lists them;
 * not a static site (the example web app: no database, secret or issuer of its own; apps/web-e2e
 * runs its server).
 */
function appServices(compose: ComposeFile): AppService[] {
  return Object.entries(compose.services)
    .filter(([, definition]) => definition['build'] !== undefined && !isStaticSite(definition))
    .map(([name, definition]) => {
      const environment = definedOnly(composeServiceEnvironment(compose, name));
      return {
        name,
        environment,
        database:
          environment['DATABASE_URL'] === undefined
            ? undefined
            : new URL(environment['DATABASE_URL']).pathname.slice(1),
        dependsOn: dependsOnOf(definition['depends_on']),
      };
    });
}

function isStaticSite(definition: Record<string, unknown>): boolean {
  const labels = definition['labels'] as Record<string, string> | undefined;
  return labels?.['tessera.static-site'] === 'true';
}

/** depends_on as a map of service name to condition, whichever form the file uses. */
function dependsOnOf(value: unknown): Record<string, string> {
  const dependsOn = (value ?? {}) as string[] | Record<string, { condition?: string }>;
  return Array.isArray(dependsOn)
    ? Object.fromEntries(dependsOn.map((other) => [other, 'service_started']))
    : Object.fromEntries(
        Object.entries(dependsOn).map(([other, { condition }]) => [
          other,
          condition ?? 'service_started',
        ]),
      );
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
