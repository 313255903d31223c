// What `npm start` (start.mjs) and `npm run dev` (dev.mjs) share: which services there are and on
// which ports, the environment each gets, its labelled output, the wait for /health/ready, the
// order they stop in, and the "Ready" banner.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const COLOURS = [36, 35, 33, 32, 34, 31];

export const label = (service) => `\x1b[${service.colour}m[${service.name}]\x1b[0m`;
export const say = (line) => process.stdout.write(`\x1b[1m[tessera]\x1b[0m ${line}\n`);

/** `resource-service` → `RESOURCE_SERVICE_PORT`: the variable that moves one service. */
/** The one public origin (apps/gateway): `npm start`'s walkthrough goes through it. */
const GATEWAY = 'gateway';

export const portVariable = (name) => `${name.toUpperCase().replace(/-/g, '_')}_PORT`;

/**
 * The services docker-compose.yml builds from apps/, auth-service first, each with its port (a
 * static site, labelled `tessera.static-site` there, such as the example web app, is one too:
 * `site`):
 * `<SERVICE>_PORT` (AUTH_SERVICE_PORT, RESOURCE_SERVICE_PORT, …) when set; else, when PORT is set,
 * auth-service on PORT and every other service as far from it as in docker-compose.yml
 * (PORT=4001: 4001, 4002, …); else the compose PORT (3001, 3002, …).
 */
export function discoverServices(environment = process.env) {
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
  const found = Object.entries(compose.services)
    .filter(([name, definition]) => definition.build?.dockerfile === `apps/${name}/Dockerfile`)
    .map(([name, definition]) => ({
      name,
      composePort: Number(definition.environment.PORT),
      client: name !== 'auth-service' && 'AUTH_CLIENT_SECRET' in definition.environment,
      site: definition.labels?.['tessera.static-site'] === 'true',
    }))
    .sort((a, b) => (a.name === 'auth-service' ? -1 : b.name === 'auth-service' ? 1 : 0));
  const shift = environment.PORT ? Number(environment.PORT) - found[0].composePort : 0;
  return found.map((service, index) => {
    const chosen = environment[portVariable(service.name)];
    const port = chosen ? Number(chosen) : service.composePort + shift;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      const variable = chosen ? portVariable(service.name) : 'PORT';
      throw new Error(`${variable} gives ${service.name} the port ${port}, which is no port`);
    }
    return { ...service, port, colour: COLOURS[index % COLOURS.length] };
  });
}

/** discoverServices(), or a line saying what is wrong with a port and exit 1. */
export function discoverServicesOrExit() {
  try {
    return discoverServices();
  } catch (error) {
    say(error.message);
    process.exit(1);
  }
}

/**
 * The variables each service gets on top of the shell's: its PORT; auth-service's ISSUER and the
 * others' AUTH_ISSUER / AUTH_SERVICE_URL pointing at auth-service's port (unless set in the
 * shell); a static site's ISSUER and RESOURCE_SERVICE_URL, where the browser reaches them; every
 * service's CORS_ORIGINS, unless set in the shell, the site's origin (http://localhost:4200, the
 * origin its registered redirect URI names), so that its page may call them; and the client secrets. Each service with a client of its own calls auth-service as
 * itself (client credentials), so it and auth-service need the same secret: the one
 * CLIENT_SECRETS (id=secret,…) gives it, else one generated and kept beside the data so it
 * survives restarts. A shell's AUTH_CLIENT_SECRET and PORT are not passed on: each could be right
 * for one service only.
 */
export function serviceEnvironments(services, environment = process.env) {
  const givenSecrets = new Map(
    (environment.CLIENT_SECRETS || '')
      .split(',')
      .filter((pair) => pair.includes('='))
      .map((pair) => pair.split(/=(.*)/s, 2).map((part) => part.trim()))
      .filter(([id, secret]) => id && secret),
  );
  const clientSecrets = new Map(givenSecrets);
  const auth = services.find((service) => service.name === 'auth-service');
  const authUrl = `http://127.0.0.1:${auth?.port ?? 3001}`;
  const issuer = environment.ISSUER || authUrl;
  const resource = services.find((service) => service.name === 'resource-service');
  const site = services.find((service) => service.site);
  const gateway = services.find((service) => service.name === GATEWAY);
  const shared = { ...environment };
  delete shared.AUTH_CLIENT_SECRET;
  delete shared.PORT;
  const result = {};
  for (const service of services) {
    const own = { ...shared, PORT: String(service.port) };
    if (service.site) {
      // Where the browser finds them (the notes API through the gateway, as every client does);
      // the site itself calls no service.
      own.ISSUER = issuer;
      own.RESOURCE_SERVICE_URL = gateway
        ? `http://127.0.0.1:${gateway.port}/api/`
        : `http://127.0.0.1:${resource?.port ?? 3002}`;
    } else if (service.name === 'auth-service') own.ISSUER = issuer;
    else {
      own.AUTH_ISSUER = environment.AUTH_ISSUER || issuer;
      own.AUTH_SERVICE_URL = environment.AUTH_SERVICE_URL || authUrl;
    }
    if (service.name === GATEWAY) {
      // Every other service where it listens (routes.json names the ones it routes to).
      own.UPSTREAMS ??= services
        .filter((other) => other !== service && !other.site)
        .map((other) => `${other.name}=http://127.0.0.1:${other.port}`)
        .join(',');
    } else if (gateway && !service.site) {
      // Behind the gateway: its X-Forwarded-For names the caller (docs/adr/0012).
      own.TRUST_PROXY ??= '127.0.0.1';
    }
    if (site && !service.site && environment.CORS_ORIGINS === undefined) {
      own.CORS_ORIGINS = `http://localhost:${site.port}`;
    }
    if (service.client) {
      const secret =
        givenSecrets.get(service.name) ?? developmentClientSecret(service.name, environment);
      clientSecrets.set(service.name, secret);
      own.AUTH_CLIENT_SECRET = secret;
    }
    result[service.name] = own;
  }
  if (result['auth-service']) {
    result['auth-service'].CLIENT_SECRETS = [...clientSecrets]
      .map(([id, secret]) => `${id}=${secret}`)
      .join(',');
  }
  return result;
}

function developmentClientSecret(name, environment) {
  const folder = resolve(root, environment.DATA_DIR || '.data');
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

/** `nx run-many -t build` for `projects` (cached by Nx); a failed build ends the script. */
export function buildOrExit(projects) {
  const build = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'),
      'run-many',
      '-t',
      'build',
      '-p',
      ...projects,
      '--output-style=static',
    ],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
    },
  );
  if (build.status !== 0) {
    say('The build failed; see above.');
    process.exit(build.status ?? 1);
  }
}

/** Writes each line of `child`'s stdout and stderr to ours, behind the service's label. */
export function labelOutput(child, service) {
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.on('data', (chunk) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(`${label(service)} ${line}\n`);
    });
  }
}

/** Whether the service's /health/ready answers 200 within `timeoutMs` (false once `stopped()`). */
export async function waitUntilReady(service, timeoutMs, stopped = () => false) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopped()) {
    const status = await fetch(`http://127.0.0.1:${service.port}/health/ready`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

/**
 * Stops the services, the ones that depend on auth-service first, then auth-service, so nothing
 * sees auth-service go away; `stop(service)` signals one and resolves with how it ended.
 */
export async function stopInOrder(running, stop) {
  const others = running.filter((service) => service.name !== 'auth-service');
  const auth = running.filter((service) => service.name === 'auth-service');
  const codes = new Map();
  for (const group of [others, auth]) {
    const ended = await Promise.all(group.map((service) => stop(service)));
    group.forEach((service, index) => codes.set(service.name, ended[index]));
  }
  return running.map((service) => codes.get(service.name));
}

/** The banner that ends a start: every service's URL (and `extra(service)`), and a first request. */
export function printReady(services, extra = () => '') {
  say('Ready:');
  for (const service of services) {
    say(
      service.site
        ? `  ${service.name.padEnd(20)} http://localhost:${service.port}  (open it in a browser)`
        : `  ${service.name.padEnd(20)} http://127.0.0.1:${service.port}  (health: /health/ready${extra(service)})`,
    );
  }
  const auth = services.find((service) => service.name === 'auth-service');
  const resource = services.find((service) => service.name === 'resource-service');
  const gateway = services.find((service) => service.name === GATEWAY);
  const site = services.find((service) => service.site);
  if (site) say(`Open http://localhost:${site.port} to sign up, sign in and write notes.`);
  if (site && site.port !== site.composePort) {
    // auth-service redirects only to the registered URI (apps/auth-service/registry.json).
    say(
      `  (Sign-in needs http://localhost:${site.port}/callback among the web client's redirectUris in apps/auth-service/registry.json.)`,
    );
  }
  if (auth) {
    say(site ? 'Or with curl:' : 'Try it:');
    const account = `-H 'content-type: application/json' -d '{"email":"ada@example.com","password":"correct horse battery staple"}'`;
    const authUrl = `http://127.0.0.1:${(gateway ?? auth).port}`;
    say(`  curl -s -X POST ${authUrl}/auth/register ${account}`);
    say(
      `  TOKEN=$(curl -s -X POST ${authUrl}/auth/login ${account} | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`,
    );
    const notesUrl = gateway
      ? `http://127.0.0.1:${gateway.port}/api/notes`
      : `http://127.0.0.1:${resource?.port}/notes`;
    if (resource) say(`  curl -s ${notesUrl} -H "authorization: Bearer $TOKEN"`);
  }
  say('Press Ctrl-C to stop the services and their databases.');
}

/**
 * Runs the services until Ctrl-C or SIGTERM: `launch(service)` starts one (a child process with
 * piped output, in a process group of its own so that Ctrl-C reaches only this script);
 * auth-service first, the others once it is ready (none of them starts without its issuer);
 * then the banner. On a signal, or when a service ends by itself, `signal(child)` stops each in
 * order (stopInOrder) and the script exits: 0 when every service stopped cleanly.
 */
export async function supervise(services, { launch, signal, readyTimeoutMs, extra, after }) {
  let stopping = false;
  const running = [];
  const start = (service) => {
    const child = launch(service);
    labelOutput(child, service);
    const exited = new Promise((resolve) =>
      child.once('exit', (code, how) => resolve(code ?? how)),
    );
    exited.then((code) => {
      if (!stopping) {
        say(`${service.name} stopped unexpectedly (${code}); stopping the rest.`);
        void stopAll(1);
      }
    });
    const started = { ...service, child, exited };
    running.push(started);
    return started;
  };
  const stopAll = async (exitCode) => {
    if (stopping) return;
    stopping = true;
    say('Stopping…');
    const codes = await stopInOrder(running, (service) => {
      if (service.child.exitCode === null && service.child.signalCode === null)
        signal(service.child);
      return service.exited;
    });
    const clean = codes.every((code) => code === 0);
    say(clean ? 'Stopped.' : `Stopped (exit codes: ${codes.join(', ')}).`);
    process.exit(clean ? exitCode : 1);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  // npm runs the script under `sh -c`; a SIGTERM sent to npm alone ends npm and sh but is not
  // passed on, which would leave the services running. Notice the orphaning and stop them.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stopAll(0);
  }, 500).unref();

  const [first, ...rest] = services;
  const isStopping = () => stopping;
  let ready = await waitUntilReady(start(first), readyTimeoutMs, isStopping);
  if (ready && !stopping) {
    const others = rest.map(start);
    ready = (
      await Promise.all(
        others.map((service) => waitUntilReady(service, readyTimeoutMs, isStopping)),
      )
    ).every(Boolean);
  }
  if (stopping) {
    // A service ended during start-up; stopAll is already under way.
  } else if (!ready) {
    say(`Not ready after ${readyTimeoutMs / 1000} s; see the logs above.`);
    await stopAll(1);
  } else {
    printReady(running, extra);
    after?.();
  }
}
