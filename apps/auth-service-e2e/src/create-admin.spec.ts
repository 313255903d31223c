import { createTestDatabase, ServiceProcess } from '@tessera/platform-testing';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';

const PORT = 13012;
const url = `http://127.0.0.1:${PORT}`;
const main = resolve(__dirname, '../../../dist/apps/auth-service/main.js');

describe('auth-service create-admin command', () => {
  let env: Record<string, string>;
  let service: ServiceProcess | undefined;

  // A database of its own on the tests' PostgreSQL, as in production (DATABASE_URL): the service
  // and each command connect to it; starting an embedded cluster is the lifecycle suite's test.
  beforeAll(async () => {
    env = {
      PORT: String(PORT),
      DATABASE_URL: await createTestDatabase('create_admin'),
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    };
  });
  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  const run = (...args: string[]) =>
    spawnSync(process.execPath, [main, ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      encoding: 'utf8',
    });

  const login = async (email: string, password: string) => {
    const response = await fetch(`${url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    const { access_token: token } = (await response.json()) as { access_token: string };
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      roles: string[];
    };
  };

  it('makes a registered account an admin, whose next login carries the admin role', async () => {
    const email = 'first-admin@example.com';
    const password = 'a passphrase for the admin';
    service = await ServiceProcess.start({ main, url, env });
    const registered = await fetch(`${url}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    expect(registered.status).toBe(201);
    expect((await login(email, password)).roles).toEqual(['user']);
    expect(await service.stop()).toBe(0);

    const result = run('create-admin', email);
    expect(result.stdout).toContain(`${email} is now an admin`);
    expect(result.status).toBe(0);

    service = await ServiceProcess.start({ main, url, env });
    expect((await login(email, password)).roles).toEqual(['user', 'admin']);
  });

  it('says so when the account does not exist, exiting 1', () => {
    const result = run('create-admin', 'nobody@example.com');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('No account is registered with nobody@example.com');
  });

  it('names the commands it knows when given another, exiting 2', () => {
    const result = run('make-coffee');
    expect(result.status).toBe(2);
    // The service's own commands first, then the platform's.
    expect(result.stderr).toMatch(/Commands: create-admin, .*\bmigrate\n/);
  });

  it('migrates as a one-off command (the deploy job), saying what the schema holds', () => {
    const result = run('migrate');
    expect(result.stdout).toMatch(
      /The schema is up to date: \d+ migration\(s\) applied, the latest [A-Za-z]+\d{13}\n$/,
    );
    // The registration above left a verification mail in the outbox (no SMTP_URL): a command
    // runs no background delivery, and its database stops only after the pool closed.
    expect(result.stdout + result.stderr).not.toMatch(/OutboxDispatcher|pool raised an error/);
    expect(result.status).toBe(0);
  });
});
