import { ServiceProcess } from '@tessera/platform/testing';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The generator end to end, in a copy of this workspace: generate a service, build, lint and test
 * it, validate docker-compose.yml, and run it next to auth-service with real tokens.
 */
const root = resolve(__dirname, '../../..');
const PORT = 4500;
const AUTH_PORT = 14710;
const SERVICE_PORT = 14711;
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

beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'tessera-generator-'));
  chmodSync(workspace, 0o755);
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
  for (const args of [
    ['init', '-q'],
    ['add', '-A'],
    ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', 'commit', '-qm', 'copy'],
  ]) {
    execFileSync('git', args, { cwd: workspace });
  }
});
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

describe('nx g @tessera/workspace-plugin:service', () => {
  it('generates orders-service, and refuses to generate it again without changing anything', () => {
    const first = nx('g', '@tessera/workspace-plugin:service', 'orders', `--port=${PORT}`);
    expect({ status: first.status, output: first.output }).toMatchObject({ status: 0 });
    expect(gitStatus()).toContain('apps/orders-service/');
    run('git', ['add', '-A']);
    run('git', [
      '-c',
      'user.name=e2e',
      '-c',
      'user.email=e2e@example.com',
      'commit',
      '-qm',
      'generated',
    ]);

    const again = nx('g', '@tessera/workspace-plugin:service', 'orders');
    expect(again.status).not.toBe(0);
    expect(again.output).toContain('orders-service already exists');
    expect(again.output).toContain('Nothing was changed');
    expect(gitStatus()).toBe('');
  });

  it('builds, lints and tests what it generated', () => {
    const result = nx(
      'run-many',
      '-t',
      'build',
      'lint',
      'test',
      '-p',
      'orders-service',
      'orders-service-e2e',
      'auth-service',
      '--exclude-task-dependencies',
      '--output-style=static',
      '--parallel=1',
      // auth-service is built for the run below; its own tests are not this suite's business.
      '--exclude=auth-service:test',
    );
    expect({ status: result.status, tail: result.output.slice(-4000) }).toMatchObject({
      status: 0,
    });
  });

  it('leaves a docker-compose.yml that docker-compose accepts', () => {
    const probe = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
    if (probe.error) {
      console.warn(
        'docker-compose is not installed: skipping `docker-compose config -q` (.ci/run installs it)',
      );
      return;
    }
    const secret = () => randomBytes(32).toString('base64url');
    const result = run('docker-compose', ['config', '-q'], {
      POSTGRES_PASSWORD: 'ci-only',
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      RESOURCE_SERVICE_CLIENT_SECRET: secret(),
      ORDERS_SERVICE_CLIENT_SECRET: secret(),
    });
    expect(result).toMatchObject({ status: 0 });
  });

  describe('orders-service next to auth-service', () => {
    let auth: ServiceProcess;
    let orders: ServiceProcess;
    const issuer = `http://127.0.0.1:${AUTH_PORT}`;
    const service = `http://127.0.0.1:${SERVICE_PORT}`;
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
    });
    afterAll(async () => {
      await orders?.stop();
      await auth?.stop();
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
      const login = (await (await post(`${issuer}/auth/login`, account)).json()) as {
        access_token: string;
        scope: string;
      };
      expect(login.scope.split(' ')).toEqual(
        expect.arrayContaining(['orders:read', 'orders:write']),
      );
      const guarded = await fetch(`${service}/orders`, {
        headers: { authorization: `Bearer ${login.access_token}` },
      });
      expect(guarded.status).toBe(200);

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
      const { access_token: foreign } = (await issued.json()) as { access_token: string };
      const refused = await fetch(`${service}/orders`, {
        headers: { authorization: `Bearer ${foreign}` },
      });
      expect(refused.status).toBe(401);
      expect((await fetch(`${service}/about`)).status).toBe(200);
    });
  });
});
