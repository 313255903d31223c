import { processesMentioning } from '@tessera/platform/testing';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../../..');
const READY_WITHIN_MS = 30_000;

interface StartRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function npmStart(dataDir: string): StartRun {
  let output = '';
  const child = spawn('npm', ['start'], {
    cwd: root,
    // A group of its own, as in a terminal: Ctrl-C there signals the whole foreground group.
    detached: true,
    // As from a terminal: without the NODE_ENV=test that Jest sets, so the services run in
    // development and keep their generated KEY_ENCRYPTION_KEY under DATA_DIR across starts.
    env: { ...withoutNodeEnv(process.env), DATA_DIR: dataDir, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output: () => output, exited };
}

function withoutNodeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  delete copy['NODE_ENV'];
  return copy;
}

async function readyWithin(url: string, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    const status = await fetch(`${url}/health/ready`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return true;
    await new Promise((wait) => setTimeout(wait, 200));
  }
  return false;
}

describe('npm start', () => {
  let dataDir: string;
  let run: StartRun | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tessera-start-'));
    await chmod(dataDir, 0o755);
  });
  afterEach(async () => {
    // A failed assertion must not leave the services holding their ports: stop them gracefully.
    if (run?.child.pid && run.child.exitCode === null && run.child.signalCode === null) {
      process.kill(-run.child.pid, 'SIGTERM');
      await run.exited;
    }
    await waitFor(() => processesMentioning(join(root, 'dist/apps')).length === 0);
    run = undefined;
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('serves both services ready on 3001 and 3002 within 30 s, and Ctrl-C stops every process cleanly', async () => {
    const startedAt = Date.now();
    run = npmStart(dataDir);
    const deadline = startedAt + READY_WITHIN_MS;
    const [auth, resource] = await Promise.all([
      readyWithin('http://127.0.0.1:3001', deadline),
      readyWithin('http://127.0.0.1:3002', deadline),
    ]);
    expect({ auth, resource }).toEqual({ auth: true, resource: true });
    await waitFor(() => run?.output().includes('Press Ctrl-C') ?? false);
    expect(run.output()).toContain('http://127.0.0.1:3001');
    expect(run.output()).toContain('http://127.0.0.1:3002');
    // The two services are wired to each other: a token from one opens the other.
    const account = { email: `start-${Date.now()}@example.com`, password: 'correct horse battery' };
    const post = (path: string, body: unknown) =>
      fetch(`http://127.0.0.1:3001${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post('/auth/register', account)).status).toBe(201);
    const { access_token: token } = (await (await post('/auth/login', account)).json()) as {
      access_token: string;
    };
    const notes = await fetch('http://127.0.0.1:3002/notes', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(notes.status).toBe(200);

    // What Ctrl-C does in a terminal. npm itself ends by the signal, as it does at a prompt; the
    // script prints "Stopped." only when every service drained and exited 0.
    process.kill(-(run.child.pid ?? 0), 'SIGINT');
    await waitFor(() => run?.output().includes('[tessera]\x1b[0m Stopped.') ?? false);
    expect(run.output()).not.toContain('exit codes');
    expect(processesMentioning(dataDir)).toEqual([]);
    expect(processesMentioning(join(root, 'dist/apps'))).toEqual([]);
  });

  it('reuses the data of the previous start, and a SIGTERM to npm alone still stops everything', async () => {
    run = npmStart(dataDir);
    // The 30 s bound is proven above; this test is about reusing the data, so allow a busy machine.
    await waitFor(
      () => run?.output().includes('Press Ctrl-C') ?? false,
      2 * READY_WITHIN_MS,
      () => run?.output() ?? '',
    );
    expect(run.output().match(/existing data in/g)).toHaveLength(2);
    expect(run.output()).not.toContain('Creating a new PostgreSQL cluster');

    run.child.kill('SIGTERM');
    await run.exited;
    await waitFor(
      () =>
        processesMentioning(dataDir).length === 0 &&
        processesMentioning(join(root, 'dist/apps')).length === 0,
    );
  });
});

async function waitFor(
  condition: () => boolean,
  timeoutMs = 10_000,
  output: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out waiting for npm start. Its last output:\n${output().slice(-3000)}`,
      );
    }
    await new Promise((wait) => setTimeout(wait, 100));
  }
}
