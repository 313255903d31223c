// Writes a service bundle's package-lock.json (dist/apps/<service>/package-lock.json) from the
// workspace's, so that `npm ci` installs in the image exactly the versions the workspace was
// built and tested with. The Dockerfiles run it after the Nx build, whose own pruned lock file
// npm ci refuses: Nx drops nested copies of a package (typeorm's cliui and wrap-ansi each need
// their own string-width 7, and the pruned file keeps neither).
//
//   node tools/scripts/bundle-lock.mjs dist/apps/auth-service/package.json
//
// The bundle's lock is the part of the workspace's tree that its package.json's dependencies
// reach, each package at the same place in node_modules: the workspace's tree is one npm built
// and installed, and a package kept at its place resolves each of its dependencies to the same
// copy as before, since dropping packages no one reaches cannot put another copy in the way.
// Dependencies are followed as npm installs them (dependencies, optionalDependencies and
// non-optional peerDependencies), and the dev/optional/peer flags are recomputed for the bundle
// as npm does (a package is optional when only optional dependencies reach it), so that
// `npm ci --omit=optional` leaves out what the workspace's lock marks optional for the bundle.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const target = process.argv[2];
if (!target) {
  console.error('usage: node tools/scripts/bundle-lock.mjs <bundle package.json>');
  process.exit(1);
}

const workspace = JSON.parse(readFileSync(resolve(root, 'package-lock.json'), 'utf8'));
if (workspace.lockfileVersion !== 3) {
  throw new Error(`package-lock.json: lockfileVersion ${workspace.lockfileVersion}, expected 3`);
}
const packages = workspace.packages;
const bundle = JSON.parse(readFileSync(target, 'utf8'));

/** The location of the package whose node_modules holds the one at `location` ('' is the root). */
const parentOf = (location) => {
  const at = location.lastIndexOf('/node_modules/');
  return at < 0 ? '' : location.slice(0, at);
};

/** Where Node.js (and npm) finds `name` from the package at `location`: the nearest node_modules. */
function resolveFrom(location, name) {
  for (let at = location; ; at = parentOf(at)) {
    const candidate = `${at === '' ? '' : `${at}/`}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (at === '') return undefined;
  }
}

/** A package's dependencies as npm's edges: optional for optionalDependencies and optional peers. */
function edgesOf(manifest) {
  const edges = new Map();
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    edges.set(name, { optional: false, peer: false });
  }
  for (const name of Object.keys(manifest.peerDependencies ?? {})) {
    const optional = manifest.peerDependenciesMeta?.[name]?.optional === true;
    edges.set(name, { optional, peer: true });
  }
  for (const name of Object.keys(manifest.optionalDependencies ?? {})) {
    edges.set(name, { optional: true, peer: false });
  }
  return [...edges].map(([name, edge]) => ({ name, ...edge }));
}

/** Every package the bundle reaches, with the edges between them. */
const reached = new Map([['', edgesOf(bundle)]]);
const queue = [''];
while (queue.length > 0) {
  const from = queue.shift();
  for (const edge of reached.get(from)) {
    edge.to = resolveFrom(from, edge.name);
    // An optional peer is installed only where something else needs it.
    if (edge.optional && edge.peer) continue;
    if (!edge.to) {
      if (edge.optional) continue;
      throw new Error(`${from || 'the bundle'} needs ${edge.name}, which package-lock.json lacks`);
    }
    if (!reached.has(edge.to)) {
      reached.set(edge.to, edgesOf(packages[edge.to]));
      queue.push(edge.to);
    }
  }
}

// The bundle pins what the workspace installed; anything else means a stale build.
for (const [name, spec] of Object.entries(bundle.dependencies ?? {})) {
  const installed = packages[`node_modules/${name}`]?.version;
  if (/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(spec) && installed !== spec) {
    throw new Error(`${target} asks for ${name}@${spec}; package-lock.json has ${installed}`);
  }
}

/** The packages reached from the root over edges that are not `kind`: those lose the flag. */
function reachedWithout(kind) {
  const seen = new Set(['']);
  const pending = [''];
  while (pending.length > 0) {
    for (const edge of reached.get(pending.shift())) {
      if (edge[kind] || !edge.to || !reached.has(edge.to) || seen.has(edge.to)) continue;
      seen.add(edge.to);
      pending.push(edge.to);
    }
  }
  return seen;
}
const required = reachedWithout('optional');
const notPeer = reachedWithout('peer');

const flags = new Set(['dev', 'optional', 'devOptional', 'peer', 'extraneous']);
const lock = {
  name: bundle.name,
  version: bundle.version,
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': Object.fromEntries(
      ['name', 'version', 'dependencies', 'optionalDependencies', 'peerDependencies']
        .filter((field) => bundle[field] !== undefined)
        .map((field) => [field, bundle[field]]),
    ),
  },
};
// In the workspace lock's order, which is npm's.
for (const [location, entry] of Object.entries(packages)) {
  if (location === '' || !reached.has(location)) continue;
  const copy = {};
  for (const [field, value] of Object.entries(entry)) {
    if (flags.has(field)) continue;
    copy[field] = value;
    if (field === 'integrity' || (field === 'version' && !entry.integrity)) {
      if (!required.has(location)) copy.optional = true;
      if (!notPeer.has(location)) copy.peer = true;
    }
  }
  lock.packages[location] = copy;
}

const output = join(dirname(target), 'package-lock.json');
writeFileSync(output, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`${output}: ${reached.size - 1} packages from package-lock.json`);
