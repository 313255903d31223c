import { ServiceProcess } from '@tessera/platform-testing';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The generator end to end, in a copy of this workspace: a service with a database
 * and a stateless one (--no-database); build, lint and test them, validate docker-compose.yml, run
 * system-e2e's compose, boundary and Kubernetes-manifest specs over the grown workspace (the
 * manifests it added render with kubectl and validate), and run both services next to
 * auth-service with real tokens, directly and through the gateway (its route table grown by the
 * generator). Ports: 14500–14502 and 14520–14522 (the generated tests'), 14710–14713.
 */
const root = resolve(__dirname, '../../..');
const PORT = 4500;
const STATELESS_PORT = 4520;
const AUTH_PORT = 14710;
const SERVICE_PORT = 14711;
const STATELESS_SERVICE_PORT = 14712;
const GATEWAY_PORT = 14713;
let workspace: string;

function run(command: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(command, args, {
    cwd: workspace,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', FORCE_COLOR: '0', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}
const nx = (...args: string[]) =>
  run(process.execPath, [join(root, 'node_modules/nx/dist/bin/nx.js'), ...args]);
const gitStatus = () => run('git', ['status', '--porcelain']).output.trim();
const commitAll = (message: string) => {
  run('git', ['add', '-A']);
  run('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', 'commit', '-qm', message]);
};

beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'tessera-generator-'));
  chmodSync(workspace, 0o755);
  // A clone, so that Nx takes the copy for another checkout of this workspace: Nx names a
  // workspace by its git remote, else by its first commit, and checkouts of one workspace share
  // one build cache. What the generator leaves unchanged (resource-service's build, say) is then
  // restored from this workspace's cache instead of built again.
  execFileSync('git', ['clone', '--quiet', '--shared', '--no-checkout', root, workspace]);
  execFileSync('git', ['remote', 'remove', 'origin'], { cwd: workspace });
  const origin = spawnSync('git', ['remote', 'get-url', 'origin'], { cwd: root, encoding: 'utf8' });
  if (origin.status === 0) {
    execFileSync('git', ['remote', 'add', 'origin', origin.stdout.trim()], { cwd: workspace });
  }
  // The workspace as git has it (committed or not, ignored files left out), sharing node_modules.
  const files = execFileSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', '-z'],
    { cwd: root },
  );
  execFileSync('tar', ['-C', root, '--null', '-T', '-', '-cf', join(workspace, 'files.tar')], {
    input: files,
  });
  execFileSync('tar', ['-xf', 'files.tar'], { cwd: workspace });
  rmSync(join(workspace, 'files.tar'));
  symlinkSync(join(root, 'node_modules'), join(workspace, 'node_modules'));
  // Empty when the workspace has no uncommitted change: the copy is then HEAD as it is.
  const commit = ['commit', '-q', '--allow-empty', '-m', 'copy'];
  for (const args of [
    ['add', '-A'],
    ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', ...commit],
  ]) {
    execFileSync('git', args, { cwd: workspace });
  }
});
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

describe('nx g @tessera/workspace-plugin:service', () => {
  // Refusing a name twice, changing nothing, and --dry-run (the generator edits only the tree and
  // prints only from the callback it returns, which Nx skips) are service.spec.ts's: an Nx run costs
  // ten to twenty seconds here.
  it('generates orders-service', () => {
    const first = nx('g', '@tessera/workspace-plugin:service', 'orders', `--port=${PORT}`);
    expect({ status: first.status, output: first.output }).toMatchObject({ status: 0 });
    expect(gitStatus()).toContain('apps/orders-service/');
    commitAll('generated orders');
  });

  it('generates a stateless quotes-service next to it with --no-database', () => {
    const result = nx(
      'g',
      '@tessera/workspace-plugin:service',
      'quotes',
      `--port=${STATELESS_PORT}`,
      '--no-database',
    );
    expect({ status: result.status, output: result.output }).toMatchObject({ status: 0 });
    expect(gitStatus()).toContain('apps/quotes-service/');
    expect(gitStatus()).not.toContain('docker/postgres/init.sql');
    commitAll('generated quotes');
  });

  it('builds, lints, type-checks and tests what it generated', () => {
    const generated = ['orders-service', 'quotes-service'];
    const runMany = (targets: string[], projects: string[]) =>
      nx(
        'run-many',
        '-t',
        ...targets,
        '-p',
        ...projects,
        '--exclude-task-dependencies',
        '--output-style=static',
        // Two at a time on CI's two cores: this suite must stay a few minutes of the CI run.
        '--parallel=2',
      );
    const withE2e = [...generated, ...generated.map((name) => `${name}-e2e`)];
    // auth-service and the gateway are built for the runs below, with the registry and the route
    // table the generator appended to; only data of theirs changed, so their lint and tests are
    // the workspace's own runs' business, not this suite's.
    const built = runMany(['build'], ['auth-service', 'gateway', ...generated]);
    expect({ status: built.status, tail: built.output.slice(-4000) }).toMatchObject({ status: 0 });
    // The builds only transpile: the generated projects' types are checked by their typecheck.
    const tested = runMany(['lint', 'typecheck', 'test'], withE2e);
    expect({ status: tested.status, tail: tested.output.slice(-4000) }).toMatchObject({
      status: 0,
    });
    // Their unit and integration specs ran (passWithNoTests would hide an empty run).
    expect(tested.output).toMatch(/orders\.controller\.spec\.ts/);
    expect(tested.output).toMatch(/quotes\.controller\.spec\.ts/);
    expect(tested.output).toMatch(/environment-parity\.spec\.ts/);
    // Both generated services prove their routes are in their API docs.
    expect(tested.output.match(/PASS .*api-docs\.spec\.ts/g)?.length).toBe(2);
  });

  it('leaves a docker-compose.yml that docker-compose accepts', () => {
    const probe = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
    if (probe.error) {
      console.warn(
        'docker-compose is not installed: skipping `docker-compose config -q` (.ci/run installs it)',
      );
      return;
    }
    // With nothing set, as `docker-compose up` runs: the secrets service generates the new
    // services' secrets too.
    const result = spawnSync('docker-compose', ['config', '-q'], {
      cwd: workspace,
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '' },
    });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it('keeps system-e2e green: every service runs with its compose environment, the boundaries hold, and the manifests render and validate', () => {
    // npm-start.spec is left out: it needs the fixed ports 3001–3003, which a workspace running
    // its own tests may hold. compose-parity.spec builds resource-service and starts all four.
    const result = nx(
      'e2e',
      'system-e2e',
      '--output-style=static',
      '--testPathPatterns=(compose-parity|module-boundaries|dockerfiles|kubernetes-manifests)',
    );
    // On failure, what system-e2e printed last: a status alone says nothing of which spec failed.
    if (result.status !== 0) {
      throw new Error(`system-e2e exited with ${result.status}:\n${result.output.slice(-8000)}`);
    }
    expect(result.output).toContain('compose-parity.spec.ts');
    expect(result.output).toContain('kubernetes-manifests.spec.ts');
  });

  describe('orders-service and the stateless quotes-service next to auth-service', () => {
    let auth: ServiceProcess;
    let orders: ServiceProcess;
    let quotes: ServiceProcess;
    let gateway: ServiceProcess;
    const edge = `http://127.0.0.1:${GATEWAY_PORT}`;
    const issuer = `http://127.0.0.1:${AUTH_PORT}`;
    const service = `http://127.0.0.1:${SERVICE_PORT}`;
    const stateless = `http://127.0.0.1:${STATELESS_SERVICE_PORT}`;
    const secret = randomBytes(32).toString('base64url');
    const dataDir = () => join(workspace, '.data-e2e');

    beforeAll(async () => {
      auth = await ServiceProcess.start({
        main: join(workspace, 'dist/apps/auth-service/main.js'),
        url: issuer,
        timeoutMs: 90_000,
        env: {
          NODE_ENV: 'test',
          PORT: String(AUTH_PORT),
          DATA_DIR: dataDir(),
          ISSUER: issuer,
          KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
          CLIENT_SECRETS: `orders-service=${secret}`,
        },
      });
      orders = await ServiceProcess.start({
        main: join(workspace, 'dist/apps/orders-service/main.js'),
        url: service,
        timeoutMs: 90_000,
        env: {
          NODE_ENV: 'test',
          PORT: String(SERVICE_PORT),
          DATA_DIR: dataDir(),
          AUTH_ISSUER: issuer,
        },
      });
      // No DATA_DIR and no DATABASE_URL: it has no database to start.
      quotes = await ServiceProcess.start({
        main: join(workspace, 'dist/apps/quotes-service/main.js'),
        url: stateless,
        timeoutMs: 90_000,
        env: { NODE_ENV: 'test', PORT: String(STATELESS_SERVICE_PORT), AUTH_ISSUER: issuer },
      });
      // The gateway built in the grown workspace: routes.json has both new services.
      gateway = await ServiceProcess.start({
        main: join(workspace, 'dist/apps/gateway/main.js'),
        url: edge,
        timeoutMs: 90_000,
        env: {
          NODE_ENV: 'test',
          PORT: String(GATEWAY_PORT),
          AUTH_ISSUER: issuer,
          UPSTREAMS: `auth-service=${issuer},orders-service=${service},quotes-service=${stateless}`,
        },
      });
    });
    afterAll(async () => {
      expect(await gateway?.stop()).toBe(0);
      expect(await quotes?.stop()).toBe(0);
      expect(await orders?.stop()).toBe(0);
      expect(await auth?.stop()).toBe(0);
    });

    const post = (url: string, body: unknown) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    it('accepts a login token for its audience on its guarded route, and refuses one for another audience', async () => {
      const account = { email: 'ada@example.com', password: 'correct horse battery staple' };
      expect((await post(`${issuer}/auth/register`, account)).status).toBe(201);
      // Tokens for both services (RFC 8707 resource): the first-party client may ask for the
      // audiences the generator registered, though it does not get them by default.
      const login = (await (
        await post(`${issuer}/auth/login`, {
          ...account,
          resource: ['orders-service', 'quotes-service'],
        })
      ).json()) as {
        access_token: string;
        scope: string;
      };
      expect(login.scope.split(' ')).toEqual(
        expect.arrayContaining(['orders:read', 'orders:write', 'quotes:read', 'quotes:write']),
      );
      const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
      expect(
        (await fetch(`${service}/orders`, { headers: bearer(login.access_token) })).status,
      ).toBe(200);
      expect(
        (await fetch(`${stateless}/quotes`, { headers: bearer(login.access_token) })).status,
      ).toBe(200);

      // A real token from the same auth-service, for another audience (auth-service itself).
      const basic = Buffer.from(`orders-service:${secret}`).toString('base64');
      const issued = await fetch(`${issuer}/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
      // Else a missing token would make the 401s below pass for the wrong reason.
      expect(issued.status).toBe(200);
      const { access_token: foreign } = (await issued.json()) as { access_token: string };
      expect((await fetch(`${service}/orders`, { headers: bearer(foreign) })).status).toBe(401);
      expect((await fetch(`${stateless}/quotes`, { headers: bearer(foreign) })).status).toBe(401);
      expect((await fetch(`${service}/about`)).status).toBe(200);
      expect((await fetch(`${stateless}/about`)).status).toBe(200);

      // Through the gateway, under the prefixes the generator gave them: the same answers.
      expect(
        (await fetch(`${edge}/api/orders`, { headers: bearer(login.access_token) })).status,
      ).toBe(200);
      expect(
        (await fetch(`${edge}/api/quotes`, { headers: bearer(login.access_token) })).status,
      ).toBe(200);
      expect((await fetch(`${edge}/api/orders`, { headers: bearer(foreign) })).status).toBe(401);
      expect((await fetch(`${edge}/api/quotes`)).status).toBe(401);
    });
  });
});
