import { updateJson } from '@nx/devkit';
import type { Tree } from '@nx/devkit';
import { parse } from 'yaml';
import type { ServiceOptions } from './service-options';

/** The platform's default METRICS_PORT is PORT plus this (libs/platform's METRICS_PORT_OFFSET). */
const METRICS_PORT_OFFSET = 6000;

/**
 * The edits a new service makes outside its own folders. Each one finds a line the workspace is
 * known to have and fails with a message naming the file when it is not there, rather than
 * guessing: a starter gets edited, and a half-registered service is worse than none.
 */

export const COMPOSE = 'docker-compose.yml';
export const INIT_SQL = 'docker/postgres/init.sql';
export const ENV_EXAMPLE = '.env.example';
export const ESLINT_CONFIG = 'eslint.config.mjs';
export const AUTH_REGISTRY = 'apps/auth-service/registry.json';
export const SYSTEM_E2E = 'apps/system-e2e/project.json';
export const GATEWAY_ROUTES = 'apps/gateway/routes.json';

/** Thrown when a file the generator edits does not look the way it expects. */
export class WorkspaceEditError extends Error {
  constructor(file: string, expected: string) {
    super(
      `${file}: could not find ${expected}; was it changed by hand? Make that edit yourself, or restore the line, and run the generator again`,
    );
    this.name = WorkspaceEditError.name;
  }
}

function read(tree: Tree, file: string): string {
  const text = tree.read(file, 'utf-8');
  if (text === null) throw new WorkspaceEditError(file, 'the file');
  return text;
}

/** Replaces the one match of `pattern`, or fails naming `expected`. */
function edit(
  tree: Tree,
  file: string,
  pattern: RegExp,
  replace: (match: string, ...groups: string[]) => string,
  expected: string,
): void {
  const text = read(tree, file);
  const matches = text.match(
    new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`),
  );
  if (!matches || matches.length !== 1) throw new WorkspaceEditError(file, expected);
  tree.write(file, text.replace(pattern, replace));
}

/** The PORTs docker-compose.yml gives its services. */
export function composePorts(tree: Tree): number[] {
  return [...read(tree, COMPOSE).matchAll(/^\s+PORT: '?(\d+)'?\s*$/gm)].map((match) =>
    Number(match[1]),
  );
}

/**
 * The ports of the services a new one counts on from: not a static site's (labelled
 * `tessera.static-site`, as the example web app on 4200 is), which keeps a port of its own.
 */
export function servicePorts(tree: Tree): number[] {
  const compose = parse(read(tree, COMPOSE)) as {
    services: Record<string, { environment?: { PORT?: unknown }; labels?: Record<string, string> }>;
  };
  return Object.values(compose.services)
    .filter((service) => service.labels?.['tessera.static-site'] !== 'true')
    .map((service) => Number(service.environment?.PORT))
    .filter((port) => Number.isInteger(port));
}

/** Where the generator has been before for this name: the files and entries it would make. */
export function existingTraces(tree: Tree, options: ServiceOptions): string[] {
  const traces: string[] = [];
  for (const root of [options.projectRoot, options.e2eRoot]) {
    if (tree.exists(root)) traces.push(root);
  }
  if (new RegExp(`^  ${options.serviceName}:\\s*$`, 'm').test(read(tree, COMPOSE))) {
    traces.push(`the ${options.serviceName} service in ${COMPOSE}`);
  }
  if (new RegExp(`^ +${options.clientSecretVariable}:`, 'm').test(read(tree, COMPOSE))) {
    traces.push(`${options.clientSecretVariable} in the secrets service of ${COMPOSE}`);
  }
  if (new RegExp(`^# ${options.serviceName}\\s*$`, 'm').test(read(tree, ENV_EXAMPLE))) {
    traces.push(`the ${options.serviceName} section of ${ENV_EXAMPLE}`);
  }
  if (read(tree, ESLINT_CONFIG).includes(`'scope:${options.serviceName}'`)) {
    traces.push(`the scope:${options.serviceName} rule in ${ESLINT_CONFIG}`);
  }
  if (readGatewayRoutes(tree).services[options.serviceName] !== undefined) {
    traces.push(`the ${options.serviceName} service in ${GATEWAY_ROUTES}`);
  }
  const registry = readRegistry(tree);
  if (registry.audiences.some((audience) => audience.id === options.serviceName)) {
    traces.push(`the ${options.serviceName} audience in ${AUTH_REGISTRY}`);
  }
  if (registry.clients.some((client) => client.id === options.serviceName)) {
    traces.push(`the ${options.serviceName} client in ${AUTH_REGISTRY}`);
  }
  if (
    options.database &&
    new RegExp(`^CREATE DATABASE ${options.databaseName}\\b`, 'mi').test(read(tree, INIT_SQL))
  ) {
    traces.push(`the ${options.databaseName} database in ${INIT_SQL}`);
  }
  return traces;
}

/** Where docker-compose.yml's `secrets` service keeps the secrets, in every container mounting it. */
const SECRETS_DIR = '/run/secrets/tessera';

/**
 * The two PostgreSQL roles of the service's database (docker/postgres/init.sql, the platform's
 * database-roles.ts): the owner its migrations run as, and the role the service runs as.
 */
export function databaseRoles(options: ServiceOptions): { owner: string; service: string } {
  return { owner: `${options.databaseName}_owner`, service: `${options.databaseName}_service` };
}

/** The secrets service's variable for a role's password, e.g. ORDERS_SERVICE_DATABASE_PASSWORD. */
function passwordVariable(role: string): string {
  return `${role.toUpperCase()}_DATABASE_PASSWORD`;
}

/**
 * The service in docker-compose.yml, reading its secrets from the volume the one-shot `secrets`
 * service fills (docker/secrets/generate-secrets.mjs): its database roles' passwords, which that
 * service generates for every `<ROLE>_DATABASE_PASSWORD` in its environment, and its own client
 * secret, which it generates for every `<SERVICE>_CLIENT_SECRET` and also writes into
 * auth-service's CLIENT_SECRETS file. A value set in the shell or .env wins.
 */
export function addComposeService(tree: Tree, options: ServiceOptions): void {
  const secretVariable = options.clientSecretVariable;
  const roles = databaseRoles(options);
  const file = (role: string) => `${SECRETS_DIR}/${role.replaceAll('_', '-')}-database-password`;
  const database = options.database
    ? [
        `      DATABASE_URL: postgres://${roles.service}@postgres:5432/${options.databaseName}`,
        `      DATABASE_PASSWORD: \${${passwordVariable(roles.service)}:-}`,
        `      DATABASE_PASSWORD_FILE: ${file(roles.service)}`,
        `      DATABASE_MIGRATION_URL: postgres://${roles.owner}@postgres:5432/${options.databaseName}`,
        `      DATABASE_MIGRATION_PASSWORD: \${${passwordVariable(roles.owner)}:-}`,
        `      DATABASE_MIGRATION_PASSWORD_FILE: ${file(roles.owner)}`,
      ]
    : [];
  const block = [
    `  ${options.serviceName}:`,
    '    build:',
    '      context: .',
    `      dockerfile: ${options.projectRoot}/Dockerfile`,
    '    environment:',
    '      NODE_ENV: production',
    '      HOST: 0.0.0.0',
    `      PORT: '${options.port}'`,
    ...database,
    '      LOG_LEVEL: ${LOG_LEVEL:-info}',
    '      BODY_LIMIT: ${BODY_LIMIT:-102400}',
    '      SHUTDOWN_TIMEOUT: ${SHUTDOWN_TIMEOUT:-10000}',
    "      # The gateway's fixed address: its X-Forwarded-For is believed, no one else's.",
    '      TRUST_PROXY: ${SERVICES_TRUST_PROXY:-172.28.0.10}',
    '      CORS_ORIGINS: ${CORS_ORIGINS:-}',
    '      # The metrics listener (GET /metrics), on the compose network only (docs/adr/0010).',
    '      METRICS_HOST: 0.0.0.0',
    `      METRICS_PORT: '${options.port + METRICS_PORT_OFFSET}'`,
    '      # Unset: no /docs in production; API_DOCS=true serves Swagger UI there too.',
    '      API_DOCS: ${API_DOCS:-}',
    '      # Tracing (docs/observability.md): spans over OTLP to the otel-collector service.',
    '      OTEL_TRACES_EXPORTER: ${SERVICES_TRACES_EXPORTER:-otlp}',
    '      OTEL_EXPORTER_OTLP_ENDPOINT: http://otel-collector:4318',
    '      OTEL_EXPORTER_OTLP_PROTOCOL: http/protobuf',
    `      OTEL_SERVICE_NAME: ${options.serviceName}`,
    '      OTEL_TRACES_SAMPLER: ${OTEL_TRACES_SAMPLER:-}',
    '      OTEL_TRACES_SAMPLER_ARG: ${OTEL_TRACES_SAMPLER_ARG:-}',
    '      AUTH_ISSUER: ${ISSUER:-http://127.0.0.1:3001}',
    `      AUTH_AUDIENCE: ${options.serviceName}`,
    '      AUTH_SERVICE_URL: http://auth-service:3001',
    '      AUTH_CLOCK_TOLERANCE: ${AUTH_CLOCK_TOLERANCE:-30}',
    `      AUTH_CLIENT_ID: ${options.serviceName}`,
    `      AUTH_CLIENT_SECRET: \${${secretVariable}:-}`,
    `      AUTH_CLIENT_SECRET_FILE: ${SECRETS_DIR}/${options.serviceName}-client-secret`,
    "      # Revocations on auth-service's events stream instead of GET /revocations (ADR 0013).",
    '      NATS_URL: nats://nats:4222',
    '    volumes:',
    `      - secrets:${SECRETS_DIR}:ro`,
    `    # Not published: clients reach it through the gateway (/api/${options.resource}).`,
    '    healthcheck:',
    '      test:',
    '        - CMD',
    '        - node',
    '        - -e',
    `        - "fetch('http://127.0.0.1:'+(process.env.PORT||${options.port})+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"`,
    '      interval: 10s',
    '      timeout: 3s',
    '      retries: 3',
    '      start_period: 30s',
    '    depends_on:',
    '      nats:',
    '        condition: service_started',
    '      secrets:',
    '        condition: service_completed_successfully',
    ...(options.database ? ['      postgres:', '        condition: service_healthy'] : []),
    '      auth-service:',
    '        condition: service_healthy',
    '      # Spans are buffered and sent again: a service never waits for their destination.',
    '      otel-collector:',
    '        condition: service_started',
    '    init: true',
    '    stop_grace_period: 15s',
    '    restart: unless-stopped',
    '',
  ].join('\n');
  edit(tree, COMPOSE, /\n(?=volumes:\n)/, () => `\n${block}\n`, 'the top-level `volumes:` key');
  // After the secrets service's last <SERVICE>_CLIENT_SECRET, the line before its `volumes:`.
  edit(
    tree,
    COMPOSE,
    /(\n {6}([A-Z][A-Z0-9_]*_CLIENT_SECRET): \$\{\2:-\}\n)(?= {4}volumes:\n)/,
    (_match, line: string) => `${line}      ${secretVariable}: \${${secretVariable}:-}\n`,
    "the secrets service's last `<SERVICE>_CLIENT_SECRET: ${<SERVICE>_CLIENT_SECRET:-}` line",
  );
  if (!options.database) return;
  // After the secrets service's last <ROLE>_DATABASE_PASSWORD line.
  edit(
    tree,
    COMPOSE,
    /(\n {6}([A-Z][A-Z0-9_]*_DATABASE_PASSWORD): \$\{\2:-\}\n)(?! {6}[A-Z][A-Z0-9_]*_DATABASE_PASSWORD:)/,
    (_match, line: string) =>
      `${line}${[roles.owner, roles.service]
        .map((role) => `      ${passwordVariable(role)}: \${${passwordVariable(role)}:-}\n`)
        .join('')}`,
    "the secrets service's last `<ROLE>_DATABASE_PASSWORD: ${<ROLE>_DATABASE_PASSWORD:-}` line",
  );
}

/** The database and its two roles, as init.sql makes auth-service's. */
export function addDatabaseToInitSql(tree: Tree, options: ServiceOptions): void {
  const { owner, service } = databaseRoles(options);
  const name = options.databaseName;
  const attributes = 'NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS';
  const statements = [
    `CREATE ROLE ${owner} LOGIN ${attributes};`,
    `CREATE ROLE ${service} LOGIN NOINHERIT ${attributes};`,
    `CREATE DATABASE ${name} OWNER ${owner};`,
    `REVOKE ALL ON DATABASE ${name} FROM PUBLIC;`,
    `GRANT CONNECT ON DATABASE ${name} TO ${service};`,
  ];
  const text = read(tree, INIT_SQL);
  tree.write(INIT_SQL, `${text.replace(/\n*$/, '\n')}\n${statements.join('\n')}\n`);
}

export function addEnvExampleSection(tree: Tree, options: ServiceOptions): void {
  const database = options.database
    ? [
        `# URL of its PostgreSQL database, \`${options.databaseName}\`. Unset: the service runs an embedded one under DATA_DIR.`,
        `# With DATABASE_MIGRATION_URL, its user is the service's own role (docker-compose: ${databaseRoles(options).service}),`,
        '# which gets only the privileges the service needs (docs/security-model.md, "Database roles").',
        '# DATABASE_URL=',
        "# Password for DATABASE_URL's user, put into the URL (replacing any there). docker-compose gives it",
        '# through DATABASE_PASSWORD_FILE, so that the URL holds no secret.',
        '# DATABASE_PASSWORD=',
        `# URL the migrations run over, as the role that owns the schema (docker-compose: ${databaseRoles(options).owner}).`,
        '# Unset: they run over DATABASE_URL, whose user must then own the schema.',
        '# DATABASE_MIGRATION_URL=',
        "# Password for DATABASE_MIGRATION_URL's user, as DATABASE_PASSWORD is DATABASE_URL's.",
        '# DATABASE_MIGRATION_PASSWORD=',
        '# Tries to reach PostgreSQL at start-up before exiting 1 (1 to 100), and milliseconds between them',
        '# (0 to 60000). docker-compose keeps these defaults: it starts a service once PostgreSQL is healthy.',
        '# DATABASE_CONNECT_ATTEMPTS=5',
        '# DATABASE_CONNECT_RETRY_DELAY=2000',
        '# Development only: folder (relative to the working directory) for the embedded PostgreSQL.',
        '# DATA_DIR=.data',
      ]
    : [];
  const section = [
    `# ${options.serviceName}`,
    '',
    '# development, production or test.',
    '# NODE_ENV=development',
    '# TCP port of the HTTP server.',
    `# PORT=${options.port}`,
    '# Interface to listen on: loopback exposes nothing beyond this machine; containers use 0.0.0.0.',
    '# HOST=127.0.0.1',
    ...database,
    '# fatal, error, warn, info, debug or trace.',
    '# LOG_LEVEL=info',
    '# Largest request body in bytes (1024 to 10485760); a larger one gets 413.',
    '# BODY_LIMIT=102400',
    '# Milliseconds to finish in-flight requests on SIGTERM or SIGINT before exiting (0 to 120000).',
    '# SHUTDOWN_TIMEOUT=10000',
    '# Proxies whose X-Forwarded-For is believed: a hop count or addresses/CIDRs. Empty: none.',
    '# TRUST_PROXY=',
    '# Browser origins allowed to call it (CORS), comma-separated and exact. Empty: CORS closed.',
    '# CORS_ORIGINS=',
    "# Port of the metrics listener (GET /metrics, Prometheus), apart from the API's. Unset: PORT + 6000; 0: none.",
    '# METRICS_PORT=',
    '# Interface of the metrics listener: loopback exposes nothing beyond this machine.',
    '# METRICS_HOST=127.0.0.1',
    '# Swagger UI at /docs and the OpenAPI document at /docs-json: true or false. Unset: on, except in production.',
    '# API_DOCS=',
    "# Tracing, as auth-service's (docs/observability.md): off unless OTEL_TRACES_EXPORTER is set.",
    '# OTEL_TRACES_EXPORTER=',
    '# OTEL_EXPORTER_OTLP_ENDPOINT=',
    '# OTEL_EXPORTER_OTLP_PROTOCOL=',
    '# OTEL_SERVICE_NAME=',
    '# OTEL_TRACES_SAMPLER=',
    '# OTEL_TRACES_SAMPLER_ARG=',
    '',
    "# The `iss` of accepted tokens: auth-service's ISSUER, byte for byte (docker-compose passes ISSUER).",
    '# AUTH_ISSUER=http://127.0.0.1:3001',
    "# This service's id: accepted tokens must name it in `aud` (its audience in apps/auth-service/registry.json).",
    `# AUTH_AUDIENCE=${options.serviceName}`,
    '# Where this service reaches auth-service (JWKS, token endpoint, revocations). Unset: AUTH_ISSUER.',
    '# AUTH_SERVICE_URL=',
    "# Leeway in seconds for exp and nbf against auth-service's clock (0 to 60).",
    '# AUTH_CLOCK_TOLERANCE=30',
    '# The OAuth client this service is when it calls auth-service as itself.',
    `# AUTH_CLIENT_ID=${options.serviceName}`,
    "# That client's secret. Unset: no revocation feed (revoked sessions' tokens work until they",
    '# expire). npm start and docker-compose set it.',
    '# AUTH_CLIENT_SECRET=',
    '# NATS server(s) with JetStream, e.g. nats://nats:4222. Set: revocations are followed on',
    "# auth-service's events stream instead of GET /revocations (ADR 0013). docker-compose sets it.",
    '# NATS_URL=',
    '',
    '',
  ].join('\n');
  edit(
    tree,
    ENV_EXAMPLE,
    /\n(?=# docker-compose\n)/,
    () => `\n${section}`,
    'the `# docker-compose` section heading',
  );
  const text = read(tree, ENV_EXAMPLE);
  tree.write(
    ENV_EXAMPLE,
    [
      text.replace(/\n*$/, ''),
      `# ${options.serviceName}'s client secret, given to it and to auth-service (32+ base64url characters:`,
      "# openssl rand -base64 32 | tr '+/' '-_' | tr -d =). Unset: generated.",
      `# ${options.clientSecretVariable}=`,
      ...(options.database
        ? [
            `# The passwords of ${options.serviceName}'s database roles. Unset: generated.`,
            ...Object.values(databaseRoles(options)).map((role) => `# ${passwordVariable(role)}=`),
          ]
        : []),
      '',
    ].join('\n'),
  );
}

export function addBoundaryRule(tree: Tree, options: ServiceOptions): void {
  const scope = `scope:${options.serviceName}`;
  edit(
    tree,
    ESLINT_CONFIG,
    /\n(\s*)(?=\{ sourceTag: 'scope:shared')/,
    (_match, indent: string) =>
      `\n${indent}{\n${indent}  sourceTag: '${scope}',\n${indent}  onlyDependOnLibsWithTags: ['${scope}', 'scope:shared'],\n${indent}},\n${indent}`,
    "the `{ sourceTag: 'scope:shared', … }` row of depConstraints",
  );
}

interface BuildStep {
  projects: string[];
  target: 'build';
}
interface SystemE2eProject {
  implicitDependencies?: string[];
  targets?: { e2e?: { dependsOn?: (string | Partial<BuildStep>)[] } };
}

/**
 * system-e2e runs every service docker-compose.yml describes from its build (compose-parity.spec)
 * and through `npm start`: it must build the new one first.
 */
export function addToSystemE2e(tree: Tree, options: ServiceOptions): void {
  read(tree, SYSTEM_E2E);
  updateJson<SystemE2eProject>(tree, SYSTEM_E2E, (project) => {
    const build = project.targets?.e2e?.dependsOn?.find(
      (step): step is BuildStep =>
        typeof step === 'object' && step.target === 'build' && Array.isArray(step.projects),
    );
    if (!Array.isArray(project.implicitDependencies) || !build) {
      throw new WorkspaceEditError(
        SYSTEM_E2E,
        'its implicitDependencies and an e2e `dependsOn: [{ projects: […], target: "build" }]`',
      );
    }
    for (const list of [project.implicitDependencies, build.projects]) {
      if (!list.includes(options.serviceName)) list.push(options.serviceName);
    }
    return project;
  });
}

/** The parts of apps/auth-service/registry.json the generator reads and appends to. */
interface RegistryFile {
  audiences: { id: string; description: string }[];
  clients: {
    id: string;
    type: string;
    grantTypes: string[];
    scopes: string[];
    audiences: string[];
    defaultAudiences: string[];
  }[];
}

/** The client every login speaks for: it may ask for the new service's audience and scopes. */
export const FIRST_PARTY_CLIENT = 'tessera-first-party';

function readRegistry(tree: Tree): RegistryFile {
  let registry: Partial<RegistryFile>;
  try {
    registry = JSON.parse(read(tree, AUTH_REGISTRY)) as Partial<RegistryFile>;
  } catch (error) {
    if (error instanceof WorkspaceEditError) throw error;
    throw new WorkspaceEditError(AUTH_REGISTRY, 'valid JSON');
  }
  const firstParty = Array.isArray(registry.clients)
    ? registry.clients.find((client) => client.id === FIRST_PARTY_CLIENT)
    : undefined;
  if (
    !Array.isArray(registry.audiences) ||
    !firstParty ||
    !Array.isArray(firstParty.audiences) ||
    !Array.isArray(firstParty.scopes)
  ) {
    throw new WorkspaceEditError(
      AUTH_REGISTRY,
      `its "audiences" list and a "clients" entry "${FIRST_PARTY_CLIENT}" with "audiences" and "scopes"`,
    );
  }
  return registry as RegistryFile;
}

/**
 * auth-service learns of the service from its registry (apps/auth-service/registry.json), which
 * it applies to its clients table at start-up: the service's audience; its confidential client,
 * to introspect tokens and follow the revocation feed once CLIENT_SECRETS gives it a secret; and
 * the first-party client may ask for the new audience (RFC 8707 `resource`) and its scopes.
 * The first-party client's default audiences stay as they are: a login gets a token for the new
 * service when it asks for one.
 */
export function registerWithAuthService(tree: Tree, options: ServiceOptions): void {
  readRegistry(tree);
  updateJson<RegistryFile>(tree, AUTH_REGISTRY, (registry) => {
    registry.audiences.push({
      id: options.serviceName,
      description: `${options.serviceName}: the ${options.resource} API`,
    });
    registry.clients.push({
      id: options.serviceName,
      type: 'confidential',
      grantTypes: ['client_credentials'],
      scopes: ['tokens:introspect', 'revocations:read'],
      audiences: ['auth-service'],
      defaultAudiences: ['auth-service'],
    });
    const firstParty = registry.clients.find((client) => client.id === FIRST_PARTY_CLIENT);
    firstParty?.audiences.push(options.serviceName);
    firstParty?.scopes.push(options.readScope, options.writeScope);
    return registry;
  });
}

/** The parts of apps/gateway/routes.json the generator reads and appends to. */
interface GatewayRoutesFile {
  services: Record<string, { port: number }>;
  routes: Record<string, unknown>[];
}

function readGatewayRoutes(tree: Tree): GatewayRoutesFile {
  let file: Partial<GatewayRoutesFile>;
  try {
    file = JSON.parse(read(tree, GATEWAY_ROUTES)) as Partial<GatewayRoutesFile>;
  } catch (error) {
    if (error instanceof WorkspaceEditError) throw error;
    throw new WorkspaceEditError(GATEWAY_ROUTES, 'valid JSON');
  }
  if (typeof file.services !== 'object' || file.services === null || !Array.isArray(file.routes)) {
    throw new WorkspaceEditError(GATEWAY_ROUTES, 'its "services" object and "routes" list');
  }
  return file as GatewayRoutesFile;
}

/**
 * The gateway routes `/api/<resource>` to the new service's `/<resource>` (data: its route
 * table, apps/gateway/routes.json, no gateway code), checking a token for the service with the
 * read scope at the edge before anything is forwarded; the service checks it again.
 */
export function addGatewayRoute(tree: Tree, options: ServiceOptions): void {
  readGatewayRoutes(tree);
  updateJson<GatewayRoutesFile>(tree, GATEWAY_ROUTES, (file) => {
    file.services[options.serviceName] = { port: options.port };
    file.routes.push({
      prefix: `/api/${options.resource}`,
      service: options.serviceName,
      path: `/${options.resource}`,
      access: 'token',
      scopes: [options.readScope],
    });
    return file;
  });
}
