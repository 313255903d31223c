import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's package installs it in /usr/sbin, which a user's PATH may lack. */
const NATS_SERVER =
  ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find(existsSync) ?? 'nats-server';

/**
 * A real `nats-server` with JetStream, for one suite: on a free loopback port, its store in a
 * temporary directory removed by `stop()`. `kill()` and `start()` take it away and bring it back
 * on the same port with the same store, as a broker restart or outage does. CI installs Debian's
 * `nats-server` (.ci/run).
 */
export class NatsTestServer {
  private child?: ChildProcess;
  private output = '';

  private constructor(
    readonly port: number,
    private readonly storeDir: string,
  ) {}

  /** `nats://127.0.0.1:<port>`. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get logs(): string {
    return this.output;
  }

  static async start(): Promise<NatsTestServer> {
    const server = new NatsTestServer(
      await freePort(),
      mkdtempSync(join(tmpdir(), 'tessera-nats-')),
    );
    await server.start();
    return server;
  }

  /**
   * Starts it again (after `kill()`) on the same port and store; resolves once it is ready.
   * `jetStream: false` brings it back without JetStream, as a broker whose JetStream has not
   * started yet answers (its clients connect, their JetStream requests fail).
   */
  async start({ jetStream = true }: { jetStream?: boolean } = {}): Promise<void> {
    const child = spawn(
      NATS_SERVER,
      [
        '-a',
        '127.0.0.1',
        '-p',
        String(this.port),
        ...(jetStream ? ['-js', '-sd', this.storeDir] : []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    // This start's output: an earlier one's "Server is ready" must not answer for it.
    const from = this.output.length;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`nats-server did not start:\n${this.output.slice(from)}`)),
        20_000,
      );
      const read = (chunk: Buffer) => {
        this.output += chunk.toString();
        if (this.output.includes('Server is ready', from)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', read);
      child.stderr?.on('data', read);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(
          new Error(
            `nats-server could not run (${error.message}): install it (apt install nats-server)`,
          ),
        );
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited with ${code}:\n${this.output}`));
      });
    });
  }

  /** Stops the server (SIGTERM), keeping its store for `start()`. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  /** Stops the server and removes its store. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}
