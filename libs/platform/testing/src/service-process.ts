import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ServiceProcessOptions {
  /** The built entry point, e.g. `dist/apps/auth-service/main.js`. */
  main: string;
  /**
   * The whole environment of the process: nothing is inherited but PATH, and NODE_COMPILE_CACHE
   * (set by `npm test`), which changes how fast code loads, not what it does.
   */
  env: Record<string, string>;
  /** Where `/health/ready` answers, e.g. `http://127.0.0.1:3001`. */
  url: string;
  /**
   * How long to wait for readiness (default 60 s: `npm test` runs suites side by side on two
   * cores, and a service that starts its own PostgreSQL needs a while on a busy machine).
   */
  timeoutMs?: number;
  /** How often to ask `/health/ready` while waiting (default 200 ms; the bench times start-up with 10). */
  pollIntervalMs?: number;
  /** Runs the process on these CPUs only (`taskset -c`, e.g. `'0'`): the bench keeps the load generator off the service's core. Linux with taskset only. */
  cpus?: string;
  /**
   * Reads the process's output and drops it, as a log shipper would, instead of keeping it for
   * `logs` (the bench: production logs at thousands of lines a second). Start-up failures are
   * still reported with the output so far.
   */
  discardOutput?: boolean;
}

/**
 * A built service run as a real process, the way production runs it. Tests speak HTTP to it and
 * read its exit code and output.
 */
export class ServiceProcess {
  private output = '';
  private readonly exited: Promise<number | null>;

  private keepOutput = true;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    const keep = (chunk: Buffer) => {
      if (this.keepOutput) this.output += chunk.toString();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Spawns the process; it may still be starting. */
  static spawn(options: ServiceProcessOptions): ServiceProcess {
    const [command, args] = options.cpus
      ? ['taskset', ['-c', options.cpus, process.execPath, options.main]]
      : [process.execPath, [options.main]];
    const child = spawn(command, args, {
      env: {
        PATH: process.env['PATH'] ?? '',
        ...(process.env['NODE_COMPILE_CACHE'] && {
          NODE_COMPILE_CACHE: process.env['NODE_COMPILE_CACHE'],
        }),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ServiceProcess(child, options.url);
  }

  /** Spawns the process and resolves once `/health/ready` answers 200. */
  static async start(options: ServiceProcessOptions): Promise<ServiceProcess> {
    const service = ServiceProcess.spawn(options);
    await service.waitUntilReady(options.timeoutMs ?? 60_000, options.pollIntervalMs);
    if (options.discardOutput) {
      service.keepOutput = false;
      service.output = '';
    }
    return service;
  }

  get logs(): string {
    return this.output;
  }

  /**
   * Resolves with the output once it matches `pattern`. A line the process has written reaches
   * `logs` a moment later, through a pipe: a test that has just seen an effect of the work the
   * line reports may not find the line yet.
   */
  async waitForLog(pattern: RegExp | string, timeoutMs = 5_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    const matches = () =>
      typeof pattern === 'string' ? this.output.includes(pattern) : pattern.test(this.output);
    while (!matches()) {
      if (Date.now() > deadline) {
        throw new Error(
          `The service did not log ${String(pattern)} within ${timeoutMs} ms; its last output:\n` +
            this.output.slice(-4000),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.output;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * The process's resident set size in bytes, as the kernel counts it (`VmRSS`): what a container
   * memory limit sees. Undefined where there is no /proc (macOS, Windows) or once it has exited.
   */
  residentBytes(): number | undefined {
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      const kibibytes = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
      return kibibytes === undefined ? undefined : Number(kibibytes) * 1024;
    } catch {
      return undefined;
    }
  }

  async waitUntilReady(timeoutMs: number, pollIntervalMs = 200): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exitCode: number | null | undefined;
    void this.exited.then((code) => (exitCode = code));
    while (Date.now() < deadline) {
      if (exitCode !== undefined) {
        throw new Error(`The service exited with ${exitCode} before it was ready:\n${this.output}`);
      }
      const status = await fetch(`${this.url}/health/ready`).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) return;
      await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
    }
    throw new Error(`The service was not ready within ${timeoutMs} ms:\n${this.output}`);
  }

  /** Resolves with the exit code once the process has ended by itself. */
  exitCode(): Promise<number | null> {
    return this.exited;
  }

  /** Sends `signal` and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
