// Gives a service bundle's package.json (dist/apps/<service>/package.json, written by the Nx build)
// the workspace's npm `overrides`, which the build leaves out of it. The Dockerfiles run it before
// installing the bundle's production dependencies: without the override of @fastify/static, npm
// cannot reconcile @nestjs/platform-fastify's optional peer range with the version the workspace
// pins, and stops with ERESOLVE.
//
//   node tools/scripts/bundle-overrides.mjs dist/apps/auth-service/package.json
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const target = process.argv[2];
if (!target) {
  console.error('usage: node tools/scripts/bundle-overrides.mjs <bundle package.json>');
  process.exit(1);
}
const { overrides } = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
const bundle = JSON.parse(readFileSync(target, 'utf8'));
if (overrides) bundle.overrides = { ...overrides, ...bundle.overrides };
writeFileSync(target, `${JSON.stringify(bundle, null, 2)}\n`);
