// `npm test`: the workspace's type check and every unit and e2e test, in two lanes, all on one
// throwaway PostgreSQL. Each Jest run's global setup would otherwise initialise a cluster of its
// own (about twenty per run); with TESSERA_TEST_POSTGRES_URL set it uses this one, and each suite
// still creates databases of its own on it. A server named by TESSERA_TEST_POSTGRES_URL or
// DATABASE_URL (CI with a real PostgreSQL) is used instead of starting one. Arguments are passed
// on to `nx run-many` (e.g. `npm test -- -p auth-service`).
//
// Run with ts-node (see package.json): the embedded cluster is the platform's TypeScript class.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { EmbeddedPostgresCluster } from '../../libs/platform/src/lib/database/embedded-postgres-cluster';

const URL_VARIABLE = 'TESSERA_TEST_POSTGRES_URL';
const STARTED_AT = Date.now();
const root = resolve(__dirname, '../..');
/** The type check runs once for the whole workspace (tools/scripts/typecheck.ts), not per project. */
const TARGETS = ['-t', 'test', 'e2e', '--output-style=static'];
/**
 * The generator's end-to-end test (several minutes: it builds, lints and tests generated services
 * in a copy of the workspace) is the longest task. Nx starts the tasks of projects nothing depends
 * on last, which would leave it running alone at the end; it gets a lane of its own from the start.
 */
const LONGEST = 'workspace-plugin';
/**
 * system-e2e's specs that the generator's test already runs over the grown copy of the workspace
 * (every service of this one, plus the two it generated): `npm test` runs them there only. `nx e2e
 * system-e2e` on its own runs them all.
 */
const SYSTEM_SPECS_IN_GENERATOR_TEST = [
  'compose-parity',
  'module-boundaries',
  'dockerfiles',
  'kubernetes-manifests',
];
/**
 * End-to-end projects that run after it on the same lane, once the other lane has built the
 * services they start (Nx's cache then has the builds, so nothing is built twice at once). They
 * keep the two lanes about equally long.
 */
const AFTER_LONGEST = ['system-e2e', 'auth-service-e2e', 'gateway-e2e', 'web-e2e'];

async function main(): Promise<number> {
  let url = process.env[URL_VARIABLE] || process.env['DATABASE_URL'];
  let cluster: EmbeddedPostgresCluster | undefined;
  let parent: string | undefined;
  if (!url) {
    Logger.overrideLogger(['fatal', 'error', 'warn']);
    parent = await mkdtemp(join(tmpdir(), 'tessera-test-pg-'));
    // mkdtemp makes it 0700; as root the `postgres` user must be able to enter it.
    await chmod(parent, 0o755);
    cluster = new EmbeddedPostgresCluster({ directory: join(parent, 'cluster'), ephemeral: true });
    await cluster.start();
    url = cluster.url('postgres');
  }
  // Node's on-disk compile cache for every process of the run: the same bundles, Nx, tsc and Jest
  // start dozens of times, and each start after the first skips compiling their code again.
  const env = {
    [URL_VARIABLE]: url,
    NODE_COMPILE_CACHE:
      process.env['NODE_COMPILE_CACHE'] ?? join(root, 'node_modules/.cache/node-compile-cache'),
  };
  const given = process.argv.slice(2);
  try {
    if (given.length > 0) {
      const code = await nx(
        ['run-many', '-t', 'typecheck', ...TARGETS.slice(1), '--parallel=2', ...given],
        env,
      );
      if (code !== 0) printFailures();
      return code;
    }
    // Two cores: the longest task on one and everything else two at a time beside it, so both
    // stay busy to the end; the workspace's type check beside them at the start. Unit-test
    // projects run one Jest worker each (Jest's default on two cores); e2e projects wait on the
    // processes they start more than they compute, so theirs run two suites at a time (their
    // jest.config.cts). The held-back runs' output is printed as one block each when they end.
    const codes = await Promise.all([
      typecheck(env),
      nx(['run-many', ...TARGETS, '--parallel=1', '-p', LONGEST], env, true).then(async (code) => [
        code,
        await nx(
          [
            'run-many',
            ...TARGETS,
            '--parallel=2',
            '-p',
            AFTER_LONGEST.join(','),
            // Jest's option: it names no spec of the other three.
            `--testPathIgnorePatterns=(${SYSTEM_SPECS_IN_GENERATOR_TEST.join('|')})\\.spec\\.ts$`,
          ],
          env,
          true,
        ),
      ]),
      nx(
        [
          'run-many',
          ...TARGETS,
          '--parallel=2',
          `--exclude=${[LONGEST, ...AFTER_LONGEST].join(',')}`,
        ],
        env,
      ),
    ]);
    const failed = codes.flat().find((code) => code !== 0) ?? 0;
    if (failed !== 0) printFailures();
    return failed;
  } finally {
    await cluster?.stop();
    if (parent) await rm(parent, { recursive: true, force: true });
  }
}

function nx(args: string[], env: Record<string, string>, holdOutput = false): Promise<number> {
  return run('nx', [join(root, 'node_modules/nx/dist/bin/nx.js'), ...args], env, holdOutput);
}

/** tools/scripts/typecheck.ts, with this script's ts-node settings (package.json). */
function typecheck(env: Record<string, string>): Promise<number> {
  const script = 'tools/scripts/typecheck.ts';
  return run(
    script,
    ['-r', 'ts-node/register/transpile-only', join(root, script)],
    {
      ...env,
      TS_NODE_PROJECT: join(root, 'tools/bench/tsconfig.json'),
    },
    true,
  );
}

function run(
  label: string,
  args: string[],
  env: Record<string, string>,
  holdOutput: boolean,
): Promise<number> {
  return new Promise((resolveCode) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      stdio: ['inherit', 'pipe', 'pipe'],
      env: {
        ...withoutTsNode(process.env),
        // Piped output keeps its colours where the terminal has them.
        ...(process.stdout.isTTY && !process.env['NO_COLOR'] ? { FORCE_COLOR: '1' } : {}),
        NX_DAEMON: 'false',
        NX_NO_CLOUD: 'true',
        ...env,
      },
    });
    let output = '';
    // Decoded as a stream: a character split between two chunks stays whole.
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    const take = (chunk: string) => {
      output += chunk;
      if (!holdOutput) process.stdout.write(chunk);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    // Ctrl-C reaches Nx through the terminal; the cluster is stopped once Nx has ended.
    process.on('SIGINT', () => undefined);
    process.on('SIGTERM', () => child.kill('SIGTERM'));
    let finished = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (finished) return;
      finished = true;
      // When each run ends, counted from npm test's start: which lane is the long one.
      const ended = `(ended ${Math.round((Date.now() - STARTED_AT) / 1000)} s in)`;
      const title = `== ${label} ${args.slice(1).join(' ')} ${ended}`;
      process.stdout.write(holdOutput ? `\n${title}\n${output}\n` : `\n${title}\n`);
      const exitCode = code ?? (signal ? 1 : 0);
      if (exitCode !== 0) {
        failures.push({
          run: `${label} ${args.slice(1).join(' ')}`,
          exitCode,
          lines: failureLines(output),
        });
      }
      resolveCode(exitCode);
    };
    // The pipes may still hold the end of the output when the process exits: wait for them to
    // close, but not for long, since a process that outlives Nx may hold them open.
    child.on('exit', (code, signal) => {
      const timer = setTimeout(() => finish(code, signal), 2000);
      child.once('close', () => {
        clearTimeout(timer);
        finish(code, signal);
      });
    });
  });
}

/** What each run that failed said about it, printed again at the very end. */
const failures: { run: string; exitCode: number; lines: string[] }[] = [];
/** Lines of a failure's message kept after its title (the stack frames are left out). */
const MESSAGE_LINES = 12;
/** At most this many lines per run: a CI log often shows only its tail. */
const MAX_LINES = 150;
/** A failed run's last lines, shown when nothing above says why it failed. */
const TAIL_LINES = 40;

/**
 * The lines of a run's output that say what failed: Jest's FAIL lines and each failed test's title
 * with the start of its message, Jest's "after the Jest environment has been torn down" (which
 * fails a run whose tests all passed), Nx's list of failed tasks, TypeScript's errors; where none
 * of those but the task list is there (a global setup that threw, a build that failed), the run's
 * last lines too. The lanes' output is long and interleaved, and a failure early in it would
 * otherwise scroll out of a CI log's tail.
 */
function failureLines(output: string): string[] {
  // eslint-disable-next-line no-control-regex -- ANSI colour codes
  const lines = output.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
  const kept: string[] = [];
  const seen = new Set<string>();
  let file = '';
  let explained = false;
  /** Whether the line was kept: not a repeat in its file (Jest's summary repeats each failure). */
  const keep = (line: string, repeatable = false): boolean => {
    const key = `${file}\u0000${line}`;
    if (kept.length >= MAX_LINES || (!repeatable && seen.has(key))) return false;
    seen.add(key);
    kept.push(line);
    return true;
  };
  let inFailedTasks = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^\s*FAIL\s/.test(line)) {
      file = line.trim();
      explained = true;
      keep(line);
    } else if (/error TS\d+:|has been torn down/.test(line)) {
      explained = true;
      keep(line);
    } else if (/^\s+● /.test(line) && !/● Console/.test(line) && keep(line)) {
      explained = true;
      let taken = 0;
      for (let j = i + 1; j < lines.length && taken < MESSAGE_LINES; j++) {
        const next = lines[j];
        if (/^\s+● |^\s*(FAIL|PASS)\s|^Test Suites:/.test(next)) break;
        // Blank lines, stack frames and the code frame under the message.
        if (next.trim() === '' || /^\s+at |^\s+>?\s*\d*\s\|/.test(next)) continue;
        if (!keep(next, true)) break;
        taken++;
      }
    } else if (/Failed tasks:/.test(line)) inFailedTasks = true;
    else if (inFailedTasks && /^\s*- \S+:\S+/.test(line)) keep(line);
    else if (inFailedTasks && line.trim() !== '') inFailedTasks = false;
  }
  if (!explained) {
    kept.push(`(nothing above says why; the run's last ${TAIL_LINES} lines:)`);
    kept.push(...lines.filter((line) => line.trim() !== '').slice(-TAIL_LINES));
  }
  return kept;
}

function printFailures(): void {
  process.stdout.write('\n== npm test failed; what failed, from the output above\n');
  for (const { run, exitCode, lines } of failures) {
    process.stdout.write(`\n-- ${run} (exit code ${exitCode})\n${lines.join('\n')}\n`);
  }
}

/** ts-node's settings for this script (package.json) are not the tasks': webpack reads them too. */
function withoutTsNode(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('TS_NODE_')));
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
