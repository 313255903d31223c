import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { processesMentioning } from './running-processes';
import { ServiceProcess } from './service-process';

export interface ServiceLifecycleSuiteOptions {
  /** e.g. `auth-service`; its build is `dist/apps/<name>/main.js`. */
  name: string;
  /** The port its tests use; avoid the development defaults so a running `npm start` is no clash. */
  port: number;
  /** False for a stateless service: no PostgreSQL to start, migrate, reuse or fail to reach. */
  database?: boolean;
}

/**
 * The black-box start-up and shutdown contract every Tessera service keeps, as a Jest suite that
 * runs the built service as a real process. Each service's e2e project calls it once.
 */
export function describeServiceLifecycle({
  name,
  port,
  database = true,
}: ServiceLifecycleSuiteOptions): void {
  const main = resolve(__dirname, '../../../../dist/apps', name, 'main.js');
  const url = `http://127.0.0.1:${port}`;
  let dataDir: string;
  const started: ServiceProcess[] = [];
  const start = async (env: Record<string, string>) => {
    const service = await ServiceProcess.start({ main, url, env });
    started.push(service);
    return service;
  };
  const spawn = (env: Record<string, string>) => {
    const service = ServiceProcess.spawn({ main, url, env });
    started.push(service);
    return service;
  };

  // One data directory for the suite: the first test creates its cluster (initdb, the slow part),
  // the others start on it, as a service does on every start after its first.
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), `${name}-e2e-`));
    // mkdtemp makes it 0700; as root the `postgres` user must be able to enter it.
    await chmod(dataDir, 0o755);
  });
  afterEach(async () => {
    // A failed assertion must not leave a service holding the port for the next test.
    await Promise.all(started.splice(0).map((service) => service.stop('SIGKILL')));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  const baseEnv = () => ({ PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'info' });

  // A stateless service does not register these at all: three tests skipped in every one of its
  // runs would be noise that hides a real skip.
  const withDatabase = (title: string, test: () => Promise<void>) => {
    if (database) it(title, test);
  };

  describe(`${name} as a process`, () => {
    withDatabase(
      'starts its own PostgreSQL, runs migrations, is ready, and exits 0 on SIGTERM leaving no postgres behind',
      async () => {
        const service = await start(baseEnv());
        expect(processesMentioning(dataDir).some((line) => line.includes('postgres'))).toBe(true);
        expect(service.logs).toContain('new data in');
        expect(service.logs).toMatch(/Migration \w+ has been executed successfully/);

        expect(await service.stop('SIGTERM')).toBe(0);
        expect(processesMentioning(dataDir)).toEqual([]);
      },
    );

    if (!database) {
      it('is ready without any database, and exits 0 on SIGTERM', async () => {
        const service = await start(baseEnv());
        expect(service.logs).not.toContain('PostgreSQL');
        expect(await service.stop('SIGTERM')).toBe(0);
        expect(processesMentioning(dataDir)).toEqual([]);
      });
    }

    it('exits 0 on SIGINT as well', async () => {
      const service = await start(baseEnv());
      expect(await service.stop('SIGINT')).toBe(0);
      expect(processesMentioning(dataDir)).toEqual([]);
    });

    withDatabase(
      'reuses its data on the next start instead of creating a new cluster',
      async () => {
        // The data the first test created (the tests of a file run in order).
        const next = await start(baseEnv());
        expect(next.logs).toContain('existing data in');
        expect(next.logs).not.toContain('new data in');
        expect(next.logs).toContain('No migrations are pending');
        expect(await next.stop()).toBe(0);
        expect(processesMentioning(dataDir)).toEqual([]);
      },
    );

    it.each([
      ['PORT', 'abc'],
      ['LOG_LEVEL', 'chatty'],
      ...(database ? [['DATABASE_URL', 'not-a-url']] : []),
    ])(
      'refuses to start with %s=%s, exiting non-zero with a message naming it',
      async (variable, value) => {
        const service = spawn({ ...baseEnv(), [variable]: value });
        const code = await service.exitCode();
        expect(code).not.toBe(0);
        expect(service.logs).toContain(`${variable}: must be`);
        expect(service.logs).not.toMatch(/^\s+at /m);
      },
    );

    withDatabase(
      'exits non-zero with a clear message when the database cannot be reached, after the tries it is given',
      async () => {
        const service = spawn({
          ...baseEnv(),
          DATABASE_URL: 'postgres://tessera:secret-password@127.0.0.1:1/auth',
          // Two tries back to back, not the default five 2 s apart.
          DATABASE_CONNECT_ATTEMPTS: '2',
          DATABASE_CONNECT_RETRY_DELAY: '0',
        });
        const code = await service.exitCode();
        expect(code).toBe(1);
        expect(service.logs).toContain('Could not start');
        expect(service.logs).not.toContain('secret-password');
        // The migrations connect first (run-migrations.ts): a line for every failed try, the
        // last one too, and the reason the start ends names the count.
        const tries = service.logs.match(/Unable to connect to the database \(try \d+ of \d+\)/g);
        expect([...new Set(tries)]).toEqual([
          'Unable to connect to the database (try 1 of 2)',
          'Unable to connect to the database (try 2 of 2)',
        ]);
        expect(service.logs).toContain('the database could not be reached in 2 tries');
      },
    );
  });
}
