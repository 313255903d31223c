import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';

/** An embedded PostgreSQL that another process (usually the running service) started. */
export interface RunningEmbeddedPostgres {
  pid: number;
  port: number;
  /** The cluster's URL for `database`, with the password kept beside it. */
  url(database: string): string;
}

/**
 * The embedded PostgreSQL running on `directory` (the folder EmbeddedPostgresCluster uses: `pg/`
 * and `password`), or undefined when none is. PostgreSQL writes its PID and port in
 * `pg/postmaster.pid` (lines 1 and 4) while it runs; a file left by a crash names a process that
 * is gone, or a port that answers nothing, and counts as none.
 */
export async function findRunningEmbeddedPostgres(
  directory: string,
): Promise<RunningEmbeddedPostgres | undefined> {
  const lines = await readFile(join(directory, 'pg', 'postmaster.pid'), 'utf8').then(
    (text) => text.split('\n'),
    () => undefined,
  );
  if (!lines) return undefined;
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return undefined;
  if (!isAlive(pid) || !(await answers(port))) return undefined;
  const password = (await readFile(join(directory, 'password'), 'utf8')).trim();
  return {
    pid,
    port,
    url: (database) =>
      `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's (PostgreSQL runs as `postgres` when started as root).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.setTimeout(1000);
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}
