#!/usr/bin/env node
// `npm run dev`: every service from its development build, rebuilt and restarted a few seconds
// after its code or a library it uses changes (dev-service.mjs), each line behind the service's
// label, each service's debugger on the port its project.json gives `serve` (auth-service 9229,
// resource-service 9230, …: the same port `nx serve <service>` uses). auth-service starts first
// and the others once it is ready; the same ports, variables, secrets and "Ready" banner as
// `npm start` (services.mjs).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useMailCatcher } from './mail-catcher.mjs';
import {
  buildOrExit,
  discoverServicesOrExit,
  root,
  say,
  serviceEnvironments,
  supervise,
} from './services.mjs';

// The first start builds every service and may create the databases: allow a slow machine.
const READY_TIMEOUT_MS = 180_000;
const services = discoverServicesOrExit().map((service) => ({
  ...service,
  debugPort: debugPortOf(service.name),
}));
const environments = serviceEnvironments(services);
// Mail goes to the development catcher unless SMTP_URL is set (mail-catcher.mjs).
await useMailCatcher(environments);

/** The inspector port of `nx serve <name>` (@nx/js:node's `port`; 9229 when unset). */
function debugPortOf(name) {
  const project = JSON.parse(readFileSync(join(root, 'apps', name, 'project.json'), 'utf8'));
  return project.targets?.serve?.options?.port ?? 9229;
}

// The build reads Nx's project graph from its cache: make sure there is one (a fresh clone has none).
const graph = spawnSync(
  process.execPath,
  [join(root, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), 'show', 'projects'],
  {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NX_NO_CLOUD: 'true' },
  },
);
if (graph.status !== 0) {
  say('Nx could not read the workspace; see above.');
  process.exit(graph.status ?? 1);
}
// A static site (the example web app) is built once and served as npm start serves it.
const sites = services.filter((service) => service.site).map((service) => service.name);
if (sites.length > 0) buildOrExit(sites);
say('Starting the services in watch mode: a change to their code rebuilds and restarts them.');
await supervise(services, {
  readyTimeoutMs: READY_TIMEOUT_MS,
  launch: (service) =>
    spawn(
      process.execPath,
      service.site
        ? [join(root, 'apps', service.name, 'server.mjs')]
        : [
            join(root, 'tools', 'scripts', 'dev-service.mjs'),
            service.name,
            String(service.debugPort),
          ],
      {
        cwd: root,
        env: { ...environments[service.name], NODE_ENV: 'development' },
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
  // dev-service.mjs stops the build watcher and the service, which drains its requests and stops
  // its PostgreSQL.
  signal: (child) => child.kill('SIGTERM'),
  extra: (service) => `, debugger: ${service.debugPort}`,
  after: () =>
    say('Edit a file under apps/ or libs/: the services that use it restart in a few seconds.'),
});
