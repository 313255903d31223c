#!/usr/bin/env node
// One service of `npm run dev` (dev.mjs runs one per service): its development build under
// webpack's watch mode (the build `nx build <service>:development` runs, rebuilt incrementally a
// few seconds after a file it uses changes), and the built service restarted after each
// successful build, with its debugger on `debugPort`. SIGINT/SIGTERM stop the watcher and the
// service (which drains its requests and stops its PostgreSQL); the exit code is the service's.
//
// Why not `nx serve`: with a webpack build inferred by @nx/webpack/plugin, @nx/js:node (Nx 23.2)
// runs each rebuild as a nested `nx run`, kills it when a second change arrives before it ends,
// and from then on refuses every rebuild as a "recursive task invocation": two saves in quick
// succession end the reloading for good.
//
// Usage: node tools/scripts/dev-service.mjs <service> <debugPort>
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { root } from './services.mjs';

const [name, debugPort] = process.argv.slice(2);
const main = join(root, 'dist', 'apps', name, 'main.js');
let service;
let serviceExited = Promise.resolve(0);
/** Settles once the service answers /health/ready or has exited (see start()). */
let serviceStarted = Promise.resolve();
let stopping = false;
/** Restarts run one at a time; a build that lands during one asks for one more. */
let restarting;
let restartAgain = false;
let builtAt = 0;

const watcher = spawn(
  process.execPath,
  [join(root, 'node_modules', 'webpack-cli', 'bin', 'cli.js'), 'build', '--watch'],
  {
    cwd: join(root, 'apps', name),
    env: {
      ...process.env,
      NODE_ENV: 'development',
      // What Nx tells the build (NxAppWebpackPlugin reads the project from them).
      NX_TASK_TARGET_PROJECT: name,
      NX_TASK_TARGET_TARGET: 'build',
      NX_TASK_TARGET_CONFIGURATION: 'development',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
for (const stream of [watcher.stdout, watcher.stderr]) {
  let partial = '';
  stream.on('data', (chunk) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onBuildLine(line);
  });
}
watcher.once('exit', (code) => {
  if (stopping) return;
  process.stdout.write(`[dev] the build watcher stopped (${code}); stopping\n`);
  void stop(1);
});

function onBuildLine(line) {
  const plain = line.replace(/\x1b\[[0-9;]*m/g, '');
  if (plain.includes('Type-checking in progress')) return;
  process.stdout.write(`${line}\n`);
  if (/compiled successfully/.test(plain)) {
    builtAt = Date.now();
    void restart();
  } else if (/compiled with \d+ errors?/.test(plain)) {
    process.stdout.write('[dev] the build failed: the running version stays until a fix builds\n');
  }
}

async function restart() {
  if (restarting) {
    restartAgain = true;
    return;
  }
  restarting = (async () => {
    do {
      restartAgain = false;
      // Never stop a service while it starts: a first start may be creating its database.
      await serviceStarted;
      if (service) {
        process.stdout.write('[dev] rebuilt: restarting\n');
        service.kill('SIGTERM');
        await serviceExited;
      }
      if (stopping) return;
      start();
    } while (restartAgain && !stopping);
  })();
  await restarting;
  restarting = undefined;
}

function start() {
  const child = spawn(
    process.execPath,
    [`--inspect=127.0.0.1:${debugPort}`, '--enable-source-maps', main],
    { cwd: root, env: { ...process.env, NODE_ENV: 'development' }, stdio: 'inherit' },
  );
  service = child;
  const started = builtAt;
  serviceExited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      if (service === child) service = undefined;
      if (!stopping && started === builtAt && code !== 0) {
        process.stdout.write(`[dev] ${name} exited (${code ?? signal}); waiting for a change\n`);
      }
      resolve(code ?? signal);
    }),
  );
  serviceStarted = untilReady(child);
}

async function untilReady(child) {
  const deadline = Date.now() + 120_000;
  while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
    const status = await fetch(`http://127.0.0.1:${process.env.PORT}/health/ready`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function stop(exitCode) {
  if (stopping) return;
  stopping = true;
  watcher.kill('SIGTERM');
  await restarting;
  service?.kill('SIGTERM');
  const code = await serviceExited;
  process.exit(exitCode || (code === 0 || code === 'SIGTERM' ? 0 : 1));
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
