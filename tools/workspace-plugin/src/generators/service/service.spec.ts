import { createTree } from '@nx/devkit/testing';
import type { Tree } from '@nx/devkit';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { serviceGenerator } from './service';

const root = resolve(__dirname, '../../../../..');

/** A tree holding the workspace files the generator reads and edits, as they are in the repository. */
function workspaceTree(): Tree {
  const tree = createTree();
  const files = [
    'nx.json',
    'package.json',
    'tsconfig.base.json',
    '.prettierrc',
    'docker-compose.yml',
    'docker/postgres/init.sql',
    '.env.example',
    'eslint.config.mjs',
    'apps/auth-service/project.json',
    'apps/auth-service/registry.json',
    'apps/auth-service/src/config/auth-service.config.ts',
    'apps/gateway/routes.json',
    'apps/resource-service/project.json',
    'apps/system-e2e/project.json',
    'deploy/kubernetes/base/kustomization.yaml',
    'deploy/kubernetes/overlays/dev/kustomization.yaml',
    'deploy/kubernetes/overlays/dev/scale.yaml',
    'deploy/kubernetes/overlays/prod/kustomization.yaml',
    'deploy/kubernetes/overlays/prod/scale.yaml',
  ];
  const migrations = 'apps/auth-service/src/database/migrations';
  for (const file of readdirSync(join(root, migrations))) files.push(`${migrations}/${file}`);
  for (const file of files) tree.write(file, readFileSync(join(root, file)));
  return tree;
}

/** Every file of the tree with its content, to compare before and after. */
function snapshot(tree: Tree): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (folder: string) => {
    for (const child of tree.children(folder)) {
      const path = folder ? `${folder}/${child}` : child;
      if (tree.isFile(path)) files.set(path, tree.read(path, 'utf-8') ?? '');
      else walk(path);
    }
  };
  walk('');
  return files;
}

const read = (tree: Tree, path: string) => tree.read(path, 'utf-8') ?? '';

describe('the service generator', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = workspaceTree();
  });

  it('creates the service and its e2e project in the house layout', async () => {
    await serviceGenerator(tree, { name: 'orders' });
    for (const file of [
      'apps/orders-service/project.json',
      'apps/orders-service/Dockerfile',
      'apps/orders-service/webpack.config.js',
      'apps/orders-service/jest.config.cts',
      'apps/orders-service/src/main.ts',
      'apps/orders-service/src/app.module.ts',
      'apps/orders-service/src/config/orders-service.config.ts',
      'apps/orders-service/src/config/environment-parity.spec.ts',
      'apps/orders-service/src/api-docs.spec.ts',
      'apps/orders-service/src/about/about.controller.ts',
      'apps/orders-service/src/orders/order.entity.ts',
      'apps/orders-service/src/orders/orders.controller.ts',
      'apps/orders-service/src/orders/orders.controller.spec.ts',
      'apps/orders-service/src/database/migrations/index.ts',
      'apps/orders-service-e2e/project.json',
      'apps/orders-service-e2e/src/lifecycle.spec.ts',
      'apps/orders-service-e2e/src/token-story.spec.ts',
    ]) {
      expect({ file, exists: tree.exists(file) }).toEqual({ file, exists: true });
    }
    expect(tree.children('apps/orders-service/src/database/migrations')).toContainEqual(
      expect.stringMatching(/^\d{13}-create-orders\.ts$/),
    );
    expect(JSON.parse(read(tree, 'apps/orders-service/project.json'))).toMatchObject({
      name: 'orders-service',
      tags: ['scope:orders-service', 'type:app'],
      // Its debugger beside auth-service's 9229 and resource-service's 9230 (npm run dev).
      targets: { serve: { options: { port: 9231 } } },
    });
    expect(JSON.parse(read(tree, 'apps/orders-service-e2e/project.json'))).toMatchObject({
      tags: ['scope:orders-service', 'type:e2e'],
    });
    const controller = read(tree, 'apps/orders-service/src/orders/orders.controller.ts');
    expect(controller).toContain('@Scopes(ORDERS_READ)');
    expect(controller).toContain('@Scopes(ORDERS_WRITE)');
    expect(read(tree, 'apps/orders-service/src/orders/orders.scopes.ts')).toContain(
      "ORDERS_READ = 'orders:read'",
    );
    expect(read(tree, 'apps/orders-service/src/about/about.controller.ts')).toContain('@Public()');
    // Documented for /docs: summaries, response types, and the errors the docs cannot derive.
    expect(controller).toContain('@ApiOkResponse({ type: OrderView })');
    expect(controller).toContain('@ApiErrors(503)');
    expect(read(tree, 'apps/orders-service/src/api-docs.spec.ts')).toContain(
      "'GET /orders/{id}': [404, 503]",
    );
    expect(read(tree, 'apps/orders-service/src/app.module.ts')).toContain(
      "database: { name: 'orders', dataFolder: 'orders-service', entities, migrations }",
    );
    // No template syntax or placeholder survives.
    for (const [path, content] of snapshot(tree)) {
      if (path.startsWith('apps/orders-service'))
        expect({ path, content }).not.toMatchObject({
          content: expect.stringMatching(/<%|__\w+__/),
        });
    }
  });

  it('takes the next free port and registers the service in compose, init.sql, .env.example and the boundaries', async () => {
    await serviceGenerator(tree, { name: 'orders' });
    const compose = read(tree, 'docker-compose.yml');
    expect(compose).toMatch(/\n {2}orders-service:\n {4}build:/);
    expect(compose).toContain("PORT: '3003'");
    // Its metrics listener: PORT + 6000, on the compose network, with no `ports:` entry.
    const block = compose.slice(compose.indexOf('  orders-service:'));
    expect(block).toContain("METRICS_PORT: '9003'");
    expect(block).toContain('METRICS_HOST: 0.0.0.0');
    expect(block).not.toContain('9003:9003');
    // Not published: the gateway is the one way in, and the service believes its forwarding only.
    expect(block).not.toContain('3003:3003');
    expect(block).toContain('TRUST_PROXY: ${SERVICES_TRUST_PROXY:-172.28.0.10}');
    expect(block).toContain(
      [
        '      DATABASE_URL: postgres://orders_service@postgres:5432/orders',
        '      DATABASE_PASSWORD: ${ORDERS_SERVICE_DATABASE_PASSWORD:-}',
        '      DATABASE_PASSWORD_FILE: /run/secrets/tessera/orders-service-database-password',
        '      DATABASE_MIGRATION_URL: postgres://orders_owner@postgres:5432/orders',
        '      DATABASE_MIGRATION_PASSWORD: ${ORDERS_OWNER_DATABASE_PASSWORD:-}',
        '      DATABASE_MIGRATION_PASSWORD_FILE: /run/secrets/tessera/orders-owner-database-password',
      ].join('\n'),
    );
    // Its database roles' passwords: generated by the secrets service, like the client secret.
    expect(compose).toContain(
      [
        '      RESOURCE_SERVICE_DATABASE_PASSWORD: ${RESOURCE_SERVICE_DATABASE_PASSWORD:-}',
        '      ORDERS_OWNER_DATABASE_PASSWORD: ${ORDERS_OWNER_DATABASE_PASSWORD:-}',
        '      ORDERS_SERVICE_DATABASE_PASSWORD: ${ORDERS_SERVICE_DATABASE_PASSWORD:-}',
        '      # One <SERVICE>_CLIENT_SECRET',
      ].join('\n'),
    );
    // Its client secret: generated by the secrets service (yours from .env wins), read as a file.
    expect(compose).toContain(
      [
        '      GATEWAY_CLIENT_SECRET: ${GATEWAY_CLIENT_SECRET:-}',
        '      ORDERS_SERVICE_CLIENT_SECRET: ${ORDERS_SERVICE_CLIENT_SECRET:-}',
        '    volumes:',
      ].join('\n'),
    );
    expect(block).toContain(
      [
        '      AUTH_CLIENT_SECRET: ${ORDERS_SERVICE_CLIENT_SECRET:-}',
        '      AUTH_CLIENT_SECRET_FILE: /run/secrets/tessera/orders-service-client-secret',
        "      # Revocations on auth-service's events stream instead of GET /revocations (ADR 0013).",
        '      NATS_URL: nats://nats:4222',
        '    volumes:',
        '      - secrets:/run/secrets/tessera:ro',
      ].join('\n'),
    );
    expect(block).toMatch(
      /depends_on:\n {6}nats:\n {8}condition: service_started\n {6}secrets:\n {8}condition: service_completed_successfully\n/,
    );
    // Nothing to set before `docker compose up`.
    expect(compose).not.toMatch(/\$\{\w+:?\?/);
    // Its database, owned by its owner role, open to its service role only.
    expect(read(tree, 'docker/postgres/init.sql')).toMatch(
      /GRANT CONNECT ON DATABASE resource TO resource_service;\n\nCREATE ROLE orders_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;\nCREATE ROLE orders_service LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;\nCREATE DATABASE orders OWNER orders_owner;\nREVOKE ALL ON DATABASE orders FROM PUBLIC;\nGRANT CONNECT ON DATABASE orders TO orders_service;\n$/,
    );
    const env = read(tree, '.env.example');
    expect(env).toMatch(
      /\n# orders-service\n[\s\S]*# PORT=3003\n[\s\S]*# METRICS_PORT=\n# [^\n]*\n# METRICS_HOST=127\.0\.0\.1\n[\s\S]*# AUTH_AUDIENCE=orders-service\n[\s\S]*\n# NATS_URL=\n[\s\S]*\n# docker-compose\n/,
    );
    expect(env).toMatch(
      /\n# orders-service\n[\s\S]*\n# DATABASE_URL=\n[\s\S]*\n# DATABASE_PASSWORD=\n/,
    );
    expect(env).toMatch(
      /\n# DATABASE_MIGRATION_URL=\n[\s\S]*\n# DATABASE_MIGRATION_PASSWORD=\n[\s\S]*\n# docker-compose\n/,
    );
    expect(env).toMatch(
      /\n# ORDERS_SERVICE_CLIENT_SECRET=\n# [^\n]*\n# ORDERS_OWNER_DATABASE_PASSWORD=\n# ORDERS_SERVICE_DATABASE_PASSWORD=\n$/,
    );
    expect(read(tree, 'eslint.config.mjs')).toMatch(
      /sourceTag: 'scope:orders-service',\s+onlyDependOnLibsWithTags: \['scope:orders-service', 'scope:shared'\]/,
    );
  });

  it('routes /api/orders to it through the gateway, with a token for it and orders:read checked at the edge', async () => {
    await serviceGenerator(tree, { name: 'orders' });
    const routes = JSON.parse(read(tree, 'apps/gateway/routes.json')) as {
      services: Record<string, { port: number }>;
      routes: Record<string, unknown>[];
    };
    expect(routes.services['orders-service']).toEqual({ port: 3003 });
    expect(routes.routes.at(-1)).toEqual({
      prefix: '/api/orders',
      service: 'orders-service',
      path: '/orders',
      access: 'token',
      scopes: ['orders:read'],
    });
    // Data only: no gateway code changes.
    expect(tree.exists('apps/gateway/src')).toBe(false);
  });

  it("gets its client secret from compose's secrets service, which also gives it to auth-service", async () => {
    await serviceGenerator(tree, { name: 'orders' });
    await serviceGenerator(tree, { name: 'quotes', database: false });
    const compose = parse(read(tree, 'docker-compose.yml')) as {
      services: Record<string, { command: string[]; environment: Record<string, string> }>;
    };
    // The secrets service's script, run as compose runs it: every ${X:-} unset, a temporary
    // folder for its volume.
    const folder = mkdtempSync(join(tmpdir(), 'tessera-generator-secrets-'));
    try {
      const secrets = compose.services['secrets'];
      const env = Object.fromEntries(
        Object.entries(secrets.environment).map(([name, value]) => [
          name,
          /^\$\{\w+:-\}$/.test(value) ? '' : value,
        ]),
      );
      const script = secrets.command[1].replace('/opt/tessera/', 'docker/secrets/');
      const result = spawnSync(process.execPath, [join(root, script)], {
        env: { ...env, SECRETS_DIR: folder },
        encoding: 'utf8',
      });
      expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
      const file = (path: string) =>
        readFileSync(join(folder, basename(path)), 'utf8').replace(/\n$/, '');
      const clientSecrets = file('client-secrets').split(',');
      for (const service of ['resource-service', 'orders-service', 'quotes-service']) {
        const secret = file(compose.services[service].environment['AUTH_CLIENT_SECRET_FILE']);
        expect(clientSecrets).toContain(`${service}=${secret}`);
      }
      expect(clientSecrets).toHaveLength(4); // and the gateway's
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('makes system-e2e build it, since that suite runs every service docker-compose.yml has', async () => {
    await serviceGenerator(tree, { name: 'orders' });
    await serviceGenerator(tree, { name: 'quotes', database: false });
    const project = JSON.parse(read(tree, 'apps/system-e2e/project.json'));
    const all = ['auth-service', 'resource-service', 'gateway', 'orders-service', 'quotes-service'];
    expect(project.implicitDependencies).toEqual(all);
    expect(project.targets.e2e.dependsOn).toEqual([{ projects: all, target: 'build' }]);
  });

  it("registers its audience and clients in auth-service's registry, and changes no auth-service code or migration", async () => {
    const registry = 'apps/auth-service/registry.json';
    const before = snapshot(tree);
    await serviceGenerator(tree, { name: 'orders' });
    const { audiences, clients } = JSON.parse(read(tree, registry));
    expect(audiences.map((audience: { id: string }) => audience.id)).toEqual([
      'auth-service',
      'resource-service',
      'orders-service',
    ]);
    expect(clients.at(-1)).toEqual({
      id: 'orders-service',
      type: 'confidential',
      grantTypes: ['client_credentials'],
      scopes: ['tokens:introspect', 'revocations:read'],
      audiences: ['auth-service'],
      defaultAudiences: ['auth-service'],
    });
    const firstParty = clients.find(
      (client: { id: string }) => client.id === 'tessera-first-party',
    );
    expect(firstParty.audiences).toEqual(['auth-service', 'resource-service', 'orders-service']);
    expect(firstParty.scopes.slice(-2)).toEqual(['orders:read', 'orders:write']);
    // A login gets a token for it when it asks (RFC 8707 resource), never by default.
    expect(firstParty.defaultAudiences).toEqual(['resource-service']);

    const after = snapshot(tree);
    const changedInAuthService = [...after.keys()].filter(
      (path) => path.startsWith('apps/auth-service/') && after.get(path) !== before.get(path),
    );
    expect(changedInAuthService).toEqual([registry]);
  });

  it('refuses, changing nothing, when the registry has no first-party client to extend', async () => {
    tree.write('apps/auth-service/registry.json', JSON.stringify({ audiences: [], clients: [] }));
    const before = snapshot(tree);
    await expect(serviceGenerator(tree, { name: 'orders' })).rejects.toThrow(
      'apps/auth-service/registry.json: could not find its "audiences" list and a "clients" entry "tessera-first-party"',
    );
    expect(snapshot(tree)).toEqual(before);
  });

  it('dates its own first migration by the clock', async () => {
    const now = 1893456000000;
    jest.spyOn(Date, 'now').mockReturnValue(now);
    await serviceGenerator(tree, { name: 'orders' });
    jest.restoreAllMocks();
    const folder = 'apps/orders-service/src/database/migrations';
    expect(tree.children(folder).sort()).toEqual([`${now}-create-orders.ts`, 'index.ts']);
    const source = read(tree, `${folder}/${now}-create-orders.ts`);
    expect(source).toContain(`export class CreateOrders${now} implements MigrationInterface`);
    expect(source).toContain(`name = 'CreateOrders${now}';`);
    expect(read(tree, `${folder}/index.ts`)).toContain(
      `export const migrations = [CreateOrders${now}];`,
    );
  });

  it('uses --port', async () => {
    await serviceGenerator(tree, { name: 'orders', port: 4100 });
    expect(read(tree, 'docker-compose.yml')).toContain("PORT: '4100'");
    expect(read(tree, 'apps/orders-service/src/config/orders-service.config.ts')).toContain(
      'override PORT = 4100;',
    );
    expect(read(tree, 'apps/orders-service/Dockerfile')).toContain('EXPOSE 4100');
    expect(read(tree, 'apps/orders-service-e2e/src/lifecycle.spec.ts')).toContain('port: 14100');
  });

  it('refuses a --port another service has', async () => {
    await expect(serviceGenerator(tree, { name: 'orders', port: 3002 })).rejects.toThrow(
      'Port 3002 is taken by another service in docker-compose.yml',
    );
  });

  it('adds its manifests to deploy/kubernetes: listed in the base, its image in each overlay, one replica in dev', async () => {
    await serviceGenerator(tree, { name: 'orders', port: 3050 });
    const documents = parseAllDocuments(read(tree, 'deploy/kubernetes/base/orders-service.yaml'));
    const objects = documents.map(
      (document) => document.toJS() as { kind: string; metadata: { name: string } },
    );
    expect(objects.map((object) => `${object.kind}/${object.metadata.name}`)).toEqual([
      'Deployment/orders-service',
      'Service/orders-service',
      'PodDisruptionBudget/orders-service',
      'HorizontalPodAutoscaler/orders-service',
      'Job/orders-service-migrate',
      'NetworkPolicy/orders-service',
    ]);
    const manifest = read(tree, 'deploy/kubernetes/base/orders-service.yaml');
    expect(manifest).toContain('containerPort: 3050');
    expect(manifest).toContain('containerPort: 9050');
    expect(manifest).toContain('postgres://orders_owner@postgres:5432/orders');
    const base = parse(read(tree, 'deploy/kubernetes/base/kustomization.yaml'));
    expect(base.resources).toContain('orders-service.yaml');
    // The kustomization keeps its comments.
    expect(read(tree, 'deploy/kubernetes/base/kustomization.yaml')).toContain(
      '# Tessera on Kubernetes',
    );
    for (const [overlay, tag] of [
      ['dev', 'dev'],
      ['prod', '0.1.0'],
    ]) {
      const kustomization = parse(
        read(tree, `deploy/kubernetes/overlays/${overlay}/kustomization.yaml`),
      );
      expect(kustomization.images).toContainEqual({ name: 'tessera/orders-service', newTag: tag });
    }
    const dev = parseAllDocuments(read(tree, 'deploy/kubernetes/overlays/dev/scale.yaml')).map(
      (document) => document.toJS() as { kind: string; metadata: { name: string }; spec: object },
    );
    expect(dev).toContainEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'orders-service' },
      spec: { replicas: 1 },
    });

    await serviceGenerator(tree, { name: 'quotes', database: false });
    const stateless = read(tree, 'deploy/kubernetes/base/quotes-service.yaml');
    expect(stateless).not.toContain('kind: Job');
    expect(stateless).not.toContain('DATABASE_URL');
    expect(stateless).not.toContain('5432');
  });

  it('makes a stateless service with --no-database', async () => {
    await serviceGenerator(tree, { name: 'quotes', database: false });
    expect(tree.exists('apps/quotes-service/src/database')).toBe(false);
    expect(tree.exists('apps/quotes-service/src/quotes/quote.entity.ts')).toBe(false);
    const config = read(tree, 'apps/quotes-service/src/config/quotes-service.config.ts');
    expect(config).toContain('withAuthEnvironment(HttpServiceEnvironment');
    expect(read(tree, 'apps/quotes-service/src/app.module.ts')).not.toContain('database');
    expect(read(tree, 'apps/quotes-service-e2e/src/lifecycle.spec.ts')).toContain(
      'database: false',
    );
    expect(read(tree, 'docker/postgres/init.sql')).not.toContain('quotes');
    const compose = read(tree, 'docker-compose.yml');
    const block = compose.slice(compose.indexOf('  quotes-service:'));
    expect(block).not.toContain('DATABASE_URL');
    expect(block).not.toMatch(/depends_on:\n\s+postgres:/);
    const env = read(tree, '.env.example');
    const section = env.slice(env.indexOf('# quotes-service'), env.indexOf('# docker-compose'));
    expect(section).not.toContain('DATABASE_URL');
    expect(section).not.toContain('DATA_DIR');
  });

  it('only edits the tree, and says what is next only when Nx runs what it returns (never under --dry-run)', async () => {
    const written = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const logged = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const printNextSteps = await serviceGenerator(tree, { name: 'orders' });
      expect(written.mock.calls.join('')).not.toContain('is ready on port');
      expect(logged.mock.calls.join('')).not.toContain('is ready on port');
      expect(tree.listChanges().map((change) => change.path)).toEqual(
        expect.arrayContaining(['apps/orders-service/src/main.ts', 'docker-compose.yml']),
      );
      // Nothing on disk: the repository's files the tree was read from are as they were.
      expect(readFileSync(join(root, 'docker-compose.yml'), 'utf8')).not.toContain(
        'orders-service',
      );
      expect(typeof printNextSteps).toBe('function');
      (printNextSteps as () => void)();
      expect(written.mock.calls.join('')).toContain('orders-service is ready on port');
    } finally {
      written.mockRestore();
      logged.mockRestore();
    }
  });

  it('refuses to generate the same name twice, saying so, and changes nothing', async () => {
    await serviceGenerator(tree, { name: 'orders' });
    const before = snapshot(tree);
    await expect(serviceGenerator(tree, { name: 'orders' })).rejects.toThrow(
      /orders-service already exists \(.*apps\/orders-service.*\)\. Nothing was changed\./,
    );
    await expect(serviceGenerator(tree, { name: 'orders-service', port: 4999 })).rejects.toThrow(
      'orders-service already exists',
    );
    expect(snapshot(tree)).toEqual(before);
  });

  it.each([
    [
      'apps/auth-service/registry.json',
      (text: string) => {
        const registry = JSON.parse(text);
        registry.audiences.push({ id: 'orders-service', description: 'left behind' });
        return JSON.stringify(registry);
      },
      'the orders-service audience in apps/auth-service/registry.json',
    ],
    [
      'docker/postgres/init.sql',
      (text: string) => `${text}CREATE DATABASE orders OWNER orders_owner;\n`,
      'the orders database in docker/postgres/init.sql',
    ],
    [
      'docker-compose.yml',
      (text: string) =>
        text.replace(
          '\n    volumes:\n      - ./docker/secrets/',
          '\n      ORDERS_SERVICE_CLIENT_SECRET: ${ORDERS_SERVICE_CLIENT_SECRET:-}\n    volumes:\n      - ./docker/secrets/',
        ),
      'ORDERS_SERVICE_CLIENT_SECRET in the secrets service of docker-compose.yml',
    ],
  ])('refuses a name that %s already has, half-removed by hand', async (file, edit, trace) => {
    tree.write(file, edit(read(tree, file)));
    const before = snapshot(tree);
    await expect(serviceGenerator(tree, { name: 'orders' })).rejects.toThrow(
      `orders-service already exists (${trace}). Nothing was changed.`,
    );
    expect(snapshot(tree)).toEqual(before);
  });

  it.each([
    ['Orders', 'is not a service name'],
    ['orders_api', 'is not a service name'],
    ['auth', 'is taken by the workspace'],
  ])('refuses the name %s', async (name, message) => {
    const before = snapshot(tree);
    await expect(serviceGenerator(tree, { name })).rejects.toThrow(message);
    expect(snapshot(tree)).toEqual(before);
  });
});
