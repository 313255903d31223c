#!/usr/bin/env node
// `npm start`: build every service (Nx caches the build), run them as plain Node processes the way
// production does, and stop them cleanly on Ctrl-C or SIGTERM. The services are the ones
// docker-compose.yml builds from apps/ (a generated service is added there), each on its PORT.
// Without DATABASE_URL each service with a database starts its own embedded PostgreSQL under
// DATA_DIR (default .data/), so nothing needs installing.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const COLOURS = [36, 35, 33, 32, 34, 31];
const services = discoverServices();
const READY_TIMEOUT_MS = 60_000;

const label = (service) => `\x1b[${service.colour}m[${service.name}]\x1b[0m`;
const say = (line) => process.stdout.write(`\x1b[1m[tessera]\x1b[0m ${line}\n`);

say('Building the services (cached after the first run)…');
const build = spawnSync(
  process.execPath,
  [
    join(root, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'),
    'run-many',
    '-t',
    'build',
    '-p',
    ...services.map((s) => s.name),
    '--output-style=static',
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' } },
);
if (build.status !== 0) {
  say('The build failed; see above.');
  process.exit(build.status ?? 1);
}

// Each service with a client of its own calls auth-service as itself (client credentials), so it
// and auth-service need the same secret: the one CLIENT_SECRETS (id=secret,…) gives it, else one
// generated and kept beside the data so it survives restarts. A shell's AUTH_CLIENT_SECRET is
// not passed on: it could be right for one service only.
const givenSecrets = new Map(
  (process.env.CLIENT_SECRETS || '')
    .split(',')
    .filter((pair) => pair.includes('='))
    .map((pair) => pair.split(/=(.*)/s, 2).map((part) => part.trim()))
    .filter(([id, secret]) => id && secret),
);
const clientSecrets = new Map(givenSecrets);
const serviceEnvironment = {};
for (const service of services.filter((s) => s.client)) {
  const secret = givenSecrets.get(service.name) ?? developmentClientSecret(service.name);
  clientSecrets.set(service.name, secret);
  serviceEnvironment[service.name] = { AUTH_CLIENT_SECRET: secret };
}
serviceEnvironment['auth-service'] = {
  CLIENT_SECRETS: [...clientSecrets].map(([id, secret]) => `${id}=${secret}`).join(','),
};

let stopping = false;
const running = services.map((service) => {
  const child = spawn(process.execPath, [join(root, 'dist', 'apps', service.name, 'main.js')], {
    cwd: root,
    env: {
      ...withoutVariable(process.env, 'AUTH_CLIENT_SECRET'),
      ...serviceEnvironment[service.name],
      PORT: String(service.port),
    },
    // Its own process group: Ctrl-C reaches only this script, which then stops each service in
    // order (drain requests, close the pool, stop its PostgreSQL) instead of killing all at once.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.on('data', (chunk) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(`${label(service)} ${line}\n`);
    });
  }
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  exited.then((code) => {
    if (!stopping) {
      say(`${service.name} stopped unexpectedly (${code}); stopping the rest.`);
      void stopAll(1);
    }
  });
  return { ...service, child, exited };
});

/** The services docker-compose.yml builds from apps/, auth-service first, with their PORT. */
function discoverServices() {
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
  const found = Object.entries(compose.services)
    .filter(([name, definition]) => definition.build?.dockerfile === `apps/${name}/Dockerfile`)
    .map(([name, definition]) => ({
      name,
      port: Number(definition.environment.PORT),
      client: name !== 'auth-service' && 'AUTH_CLIENT_SECRET' in definition.environment,
    }))
    .sort((a, b) => (a.name === 'auth-service' ? -1 : b.name === 'auth-service' ? 1 : 0));
  return found.map((service, index) => ({ ...service, colour: COLOURS[index % COLOURS.length] }));
}

function withoutVariable(environment, name) {
  const copy = { ...environment };
  delete copy[name];
  return copy;
}

function developmentClientSecret(name) {
  const folder = resolve(root, process.env.DATA_DIR || '.data');
  const file = join(folder, `${name}-client-secret`);
  const kept = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (kept) {
    // Readable by its owner only, whoever created it.
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return kept;
  }
  mkdirSync(folder, { recursive: true, mode: 0o755 });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  say(`Generated ${name}'s development client secret in ${file}`);
  return secret;
}

async function stopAll(exitCode) {
  if (stopping) return;
  stopping = true;
  say('Stopping…');
  for (const service of running) {
    if (service.child.exitCode === null && service.child.signalCode === null)
      service.child.kill('SIGTERM');
  }
  const codes = await Promise.all(running.map((service) => service.exited));
  const clean = codes.every((code) => code === 0);
  say(clean ? 'Stopped.' : `Stopped (exit codes: ${codes.join(', ')}).`);
  process.exit(clean ? exitCode : 1);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
// `npm start` runs this under `sh -c`; a SIGTERM sent to npm alone ends npm and sh but is not passed
// on, which would leave the services running. Notice the orphaning and stop them.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stopAll(0);
}, 500).unref();

async function waitUntilReady(service) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && !stopping) {
    const status = await fetch(`http://127.0.0.1:${service.port}/health/ready`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

const ready = await Promise.all(running.map(waitUntilReady));
if (stopping) {
  // A service died during start-up; stopAll is already under way.
} else if (!ready.every(Boolean)) {
  say(`Not ready after ${READY_TIMEOUT_MS / 1000} s; see the logs above.`);
  await stopAll(1);
} else {
  say('Ready:');
  for (const service of running)
    say(`  ${service.name.padEnd(20)} http://127.0.0.1:${service.port}  (health: /health/ready)`);
  say('Try it:');
  const account = `-H 'content-type: application/json' -d '{"email":"ada@example.com","password":"correct horse battery staple"}'`;
  say(`  curl -s -X POST http://127.0.0.1:3001/auth/register ${account}`);
  say(
    `  TOKEN=$(curl -s -X POST http://127.0.0.1:3001/auth/login ${account} | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`,
  );
  say(`  curl -s http://127.0.0.1:3002/notes -H "authorization: Bearer $TOKEN"`);
  say('Press Ctrl-C to stop the services and their databases.');
}
