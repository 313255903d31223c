// `npm start -- --nats` (and `npm run dev -- --nats`): a local nats-server with JetStream for the
// services, so that they publish and follow domain events (docs/events.md, docs/adr/0013). Only
// when asked: plain `npm start` needs nothing installed and uses the server-sent events feed. With
// NATS_URL already set, that server is used and none is started.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { root, say } from './services.mjs';

const READY_TIMEOUT_MS = 15_000;

/** Starts nats-server when `--nats` is among `args`; sets NATS_URL in `environment` for the services. */
export async function startNatsIfAsked(args, environment = process.env) {
  if (!args.includes('--nats')) return;
  if (environment.NATS_URL) {
    say(`Using the NATS server at NATS_URL (${redacted(environment.NATS_URL)}).`);
    return;
  }
  const binary = findNatsServer(environment);
  if (!binary) {
    say(
      '--nats needs nats-server: apt install nats-server (Debian, Ubuntu), brew install nats-server ' +
        '(macOS), or https://github.com/nats-io/nats-server/releases; or set NATS_URL to a server of yours.',
    );
    process.exit(1);
  }
  const port = environment.NATS_PORT || '4222';
  const store = join(environment.DATA_DIR || join(root, '.data'), 'nats');
  mkdirSync(store, { recursive: true });
  // A process group of its own: Ctrl-C stops the services first, then this script stops it.
  const child = spawn(binary, ['-js', '-sd', store, '-a', '127.0.0.1', '-p', port], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  process.on('exit', () => child.kill('SIGTERM'));
  await new Promise((resolve) => {
    let output = '';
    const timer = setTimeout(
      () => fail(`not ready after ${READY_TIMEOUT_MS / 1000} s`),
      READY_TIMEOUT_MS,
    );
    const fail = (why) => {
      say(`nats-server did not start (${why}):\n${output}`);
      process.exit(1);
    };
    child.stderr.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Server is ready')) {
        clearTimeout(timer);
        child.stderr.resume();
        resolve();
      }
    });
    child.once('exit', (code) => fail(`exit code ${code}`));
  });
  environment.NATS_URL = `nats://127.0.0.1:${port}`;
  say(`nats-server with JetStream on ${environment.NATS_URL} (store: ${store}).`);
}

function findNatsServer(environment) {
  const directories = [...(environment.PATH || '').split(delimiter), '/usr/sbin', '/usr/local/bin'];
  return directories
    .map((directory) => join(directory, 'nats-server'))
    .find((path) => existsSync(path));
}

/** A URL without its credentials, for the console. */
function redacted(url) {
  return url.replace(/\/\/[^@/]*@/g, '//…@');
}
