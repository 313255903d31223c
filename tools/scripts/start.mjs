#!/usr/bin/env node
// `npm start`: build every service (Nx caches the build), run them as plain Node processes the way
// production does, and stop them cleanly on Ctrl-C or SIGTERM. The services are the ones
// docker-compose.yml builds from apps/ (a generated service is added there), each on its PORT
// (PORT or <SERVICE>_PORT in the shell moves them: see services.mjs). auth-service starts first,
// the others once it is ready, so none of them starts without its issuer. Without DATABASE_URL
// each service with a database starts its own embedded PostgreSQL under DATA_DIR (default
// .data/), so nothing needs installing. `npm start -- --nats` also runs a local nats-server with
// JetStream (nats.mjs) and gives the services its NATS_URL.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startNatsIfAsked } from './nats.mjs';
import { useMailCatcher } from './mail-catcher.mjs';
import {
  buildOrExit,
  discoverServicesOrExit,
  root,
  say,
  serviceEnvironments,
  supervise,
} from './services.mjs';

const READY_TIMEOUT_MS = 60_000;
const services = discoverServicesOrExit();

say('Building the services (cached after the first run)…');
buildOrExit(services.map((service) => service.name));

await startNatsIfAsked(process.argv.slice(2));
const environments = serviceEnvironments(services);
// Mail goes to the development catcher unless SMTP_URL is set (mail-catcher.mjs).
await useMailCatcher(environments);
await supervise(services, {
  readyTimeoutMs: READY_TIMEOUT_MS,
  // A static site (the example web app) is its build served by its own small server.mjs.
  launch: (service) =>
    spawn(process.execPath, [entryOf(service)], {
      cwd: root,
      env: environments[service.name],
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  // Drain requests, close the pool, stop its PostgreSQL, exit 0.
  signal: (child) => child.kill('SIGTERM'),
});

function entryOf(service) {
  return service.site
    ? join(root, 'apps', service.name, 'server.mjs')
    : join(root, 'dist', 'apps', service.name, 'main.js');
}
