#!/usr/bin/env node
// `npm start`: build every service (Nx caches the build), run them as plain Node processes the way
// production does, and stop them cleanly on Ctrl-C or SIGTERM. The services are the ones
// docker-compose.yml builds from apps/ (a generated service is added there), each on its PORT
// (PORT or <SERVICE>_PORT in the shell moves them: see services.mjs). auth-service starts first,
// the others once it is ready, so none of them starts without its issuer. Without DATABASE_URL
// each service with a database starts its own embedded PostgreSQL under DATA_DIR (default
// .data/), so nothing needs installing.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { discoverServicesOrExit, root, say, serviceEnvironments, supervise } from './services.mjs';

const READY_TIMEOUT_MS = 60_000;
const services = discoverServicesOrExit();

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

const environments = serviceEnvironments(services);
await supervise(services, {
  readyTimeoutMs: READY_TIMEOUT_MS,
  launch: (service) =>
    spawn(process.execPath, [join(root, 'dist', 'apps', service.name, 'main.js')], {
      cwd: root,
      env: environments[service.name],
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  // Drain requests, close the pool, stop its PostgreSQL, exit 0.
  signal: (child) => child.kill('SIGTERM'),
});
