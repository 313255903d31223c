import { createTree } from '@nx/devkit/testing';
import type { Tree } from '@nx/devkit';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
    'apps/auth-service/src/config/auth-service.config.ts',
    'apps/resource-service/project.json',
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
    expect(compose).toContain('@postgres:5432/orders\n');
    expect(compose).toContain(
      'ACCESS_TOKEN_AUDIENCES: ${ACCESS_TOKEN_AUDIENCES:-resource-service,orders-service}',
    );
    expect(compose).toMatch(
      /CLIENT_SECRETS: resource-service=\$\{RESOURCE_SERVICE_CLIENT_SECRET:\?[^}]*\},orders-service=\$\{ORDERS_SERVICE_CLIENT_SECRET:\?/,
    );
    expect(read(tree, 'docker/postgres/init.sql')).toMatch(
      /CREATE DATABASE resource;\nCREATE DATABASE orders;\n$/,
    );
    const env = read(tree, '.env.example');
    expect(env).toMatch(
      /\n# orders-service\n[\s\S]*# PORT=3003\n[\s\S]*# AUTH_AUDIENCE=orders-service\n[\s\S]*\n# docker-compose\n/,
    );
    expect(env).toContain('# ACCESS_TOKEN_AUDIENCES=resource-service,orders-service\n');
    expect(env).toMatch(/\nORDERS_SERVICE_CLIENT_SECRET=\n$/);
    expect(read(tree, 'eslint.config.mjs')).toMatch(
      /sourceTag: 'scope:orders-service',\s+onlyDependOnLibsWithTags: \['scope:orders-service', 'scope:shared'\]/,
    );
  });

  it('registers its audience and scopes with auth-service', async () => {
    await serviceGenerator(tree, { name: 'orders' });
    expect(read(tree, 'apps/auth-service/src/config/auth-service.config.ts')).toContain(
      "ACCESS_TOKEN_AUDIENCES: string[] = ['resource-service', 'orders-service'];",
    );
    const migrations = 'apps/auth-service/src/database/migrations';
    const registration = tree
      .children(migrations)
      .find((file) => file.endsWith('-register-orders-service.ts'));
    expect(registration).toBeDefined();
    const sql = read(tree, `${migrations}/${registration}`);
    expect(sql).toContain(`"scopes" = "scopes" || ARRAY['orders:read', 'orders:write']`);
    expect(sql).toContain(`WHERE "id" = 'tessera-first-party'`);
    expect(sql).toContain(`('orders-service', 'confidential', ARRAY['client_credentials']`);
    const className = /export class (\w+)/.exec(sql)?.[1] ?? '';
    const index = read(tree, `${migrations}/index.ts`);
    expect(index).toContain(
      `import { ${className} } from './${registration?.replace(/\.ts$/, '')}';`,
    );
    expect(index).toMatch(new RegExp(`CreateRevocations1763798400500,\\n {2}${className},\\n\\];`));
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
    ['Orders', 'is not a service name'],
    ['orders_api', 'is not a service name'],
    ['auth', 'is taken by the workspace'],
  ])('refuses the name %s', async (name, message) => {
    const before = snapshot(tree);
    await expect(serviceGenerator(tree, { name })).rejects.toThrow(message);
    expect(snapshot(tree)).toEqual(before);
  });
});
