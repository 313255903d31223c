import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, posix, resolve } from 'node:path';
import { parse } from 'yaml';

/** Variables as the shell gives them to docker-compose: unset is `undefined`, not `''`. */
export type VariableSource = Record<string, string | undefined>;

/** The parts of a docker-compose file the tests read; everything else is kept as parsed. */
export interface ComposeFile {
  services: Record<string, ComposeService>;
  [key: string]: unknown;
}

export interface ComposeService {
  environment?: Record<string, string | number | boolean | null> | string[];
  [key: string]: unknown;
}

/** One `$NAME` or `${NAME<operator><argument>}` in a compose value. */
export interface ComposeVariableReference {
  name: string;
  /** `:-`, `-`, `:?`, `?`, `:+`, `+`, or undefined for a plain `${NAME}` / `$NAME`. */
  operator?: string;
  /** The default, error message or replacement after the operator, not yet interpolated. */
  argument: string;
}

/** Thrown for `${NAME:?message}` / `${NAME?message}` when NAME has no value. */
export class MissingComposeVariableError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`required variable ${variable} is missing a value${detail ? `: ${detail}` : ''}`);
    this.name = MissingComposeVariableError.name;
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const BRACED = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/;

/**
 * Parses a docker-compose file. With `variables`, every string value is interpolated the way
 * docker-compose does it (see interpolateCompose); without, values stay as written. Merge keys
 * (`<<: *anchor`) are resolved, as docker-compose resolves them.
 *
 * @example
 * const compose = readComposeFile('docker-compose.yml', { POSTGRES_PASSWORD: 'secret' });
 * composeServiceEnvironment(compose, 'auth-service').DATABASE_URL;
 */
export function readComposeFile(path: string, variables?: VariableSource): ComposeFile {
  const parsed: unknown = parse(readFileSync(path, 'utf8'), { merge: true });
  if (!isRecord(parsed) || !isRecord(parsed['services'])) {
    throw new Error(`${path} has no \`services:\` map`);
  }
  const compose = parsed as ComposeFile;
  return variables ? (interpolateTree(compose, variables) as ComposeFile) : compose;
}

/**
 * Interpolates one compose value: `$NAME`, `${NAME}`, `${NAME:-default}` (unset or empty),
 * `${NAME-default}` (unset), `${NAME:?message}` / `${NAME?message}` (required),
 * `${NAME:+replacement}` / `${NAME+replacement}`, and `$$` for a literal `$`. Defaults may
 * themselves hold `${…}`; they are only interpolated when used.
 *
 * @throws MissingComposeVariableError when a required variable has no value.
 */
export function interpolateCompose(text: string, variables: VariableSource): string {
  return expand(text, (reference) => substitute(reference, variables));
}

/** Every variable a compose value (or any tree of them) takes from the shell, defaults included. */
export function composeVariableReferences(value: unknown): ComposeVariableReference[] {
  if (typeof value === 'string') {
    const references: ComposeVariableReference[] = [];
    expand(value, (reference) => {
      references.push(reference, ...composeVariableReferences(reference.argument));
      return '';
    });
    return references;
  }
  if (Array.isArray(value)) return value.flatMap(composeVariableReferences);
  if (isRecord(value)) return Object.values(value).flatMap(composeVariableReferences);
  return [];
}

/**
 * A service's `environment:`, whether written as a map or as a `KEY=value` list. A variable
 * given no value (`- KEY` in a list, `KEY:` in a map) passes through from the shell; it maps to
 * undefined. Variables from `env_file:` are not read.
 */
export function composeServiceEnvironment(compose: ComposeFile, service: string): VariableSource {
  const definition = compose.services[service];
  if (!definition) {
    throw new Error(
      `docker-compose has no service "${service}"; it has ${Object.keys(compose.services).join(', ')}`,
    );
  }
  const environment = definition.environment ?? {};
  if (!Array.isArray(environment)) {
    return Object.fromEntries(
      Object.entries(environment).map(([name, value]) => [
        name,
        value === null ? undefined : String(value),
      ]),
    );
  }
  const result: VariableSource = {};
  for (const entry of environment) {
    const separator = entry.indexOf('=');
    const name = separator === -1 ? entry : entry.slice(0, separator);
    if (name in result)
      throw new Error(`service "${service}" lists ${name} twice in its environment`);
    result[name] = separator === -1 ? undefined : entry.slice(separator + 1);
  }
  return result;
}

/**
 * Reads a `.env`-style file made of sections. A section starts at a comment line holding one
 * lower-case word (`# auth-service`); a variable is `NAME=value` or, documented but unset,
 * `# NAME=value`. Other comment lines and blank lines are ignored. Returns the variables of each
 * section (those before the first heading under `''`).
 *
 * @example
 * readEnvFileSections('.env.example')['auth-service'].PORT; // '3001'
 */
export function readEnvFileSections(path: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = { '': {} };
  let current = sections[''];
  readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .forEach((line, index) => {
      const heading = /^#\s*([a-z][a-z0-9-]*)\s*$/.exec(line);
      if (heading) {
        current = sections[heading[1]] ??= {};
        return;
      }
      const variable = /^#?\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
      if (!variable) return;
      const [, name, value] = variable;
      if (name in current)
        throw new Error(`${path}:${index + 1} lists ${name} twice in one section`);
      current[name] = value.trim();
    });
  return sections;
}

function expand(text: string, resolve: (reference: ComposeVariableReference) => string): string {
  let result = '';
  let index = 0;
  while (index < text.length) {
    const dollar = text.indexOf('$', index);
    if (dollar === -1) return result + text.slice(index);
    result += text.slice(index, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      result += '$';
      index = dollar + 2;
    } else if (next === '{') {
      const end = closingBrace(text, dollar + 2);
      result += resolve(parseBraced(text.slice(dollar + 2, end)));
      index = end + 1;
    } else {
      const name = NAME.exec(text.slice(dollar + 1))?.[0];
      if (!name) throw new Error(`Invalid interpolation in "${text}": write $$ for a literal $`);
      result += resolve({ name, argument: '' });
      index = dollar + 1 + name.length;
    }
  }
  return result;
}

function closingBrace(text: string, start: number): number {
  let depth = 1;
  for (let index = start; index < text.length; index++) {
    if (text.startsWith('$$', index)) index++;
    else if (text.startsWith('${', index)) {
      depth++;
      index++;
    } else if (text[index] === '}' && --depth === 0) return index;
  }
  throw new Error(`Unclosed "\${" in "${text}"`);
}

function parseBraced(expression: string): ComposeVariableReference {
  const match = BRACED.exec(expression);
  if (!match) throw new Error(`Invalid interpolation "\${${expression}}"`);
  const [, name, operator, argument = ''] = match;
  return { name, operator, argument };
}

function substitute(
  { name, operator, argument }: ComposeVariableReference,
  variables: VariableSource,
): string {
  const value = variables[name];
  const isSet = value !== undefined;
  const hasValue = isSet && value !== '';
  const present = operator?.startsWith(':') ? hasValue : isSet;
  switch (operator) {
    case undefined:
      return value ?? '';
    case ':-':
    case '-':
      return present ? (value as string) : interpolateCompose(argument, variables);
    case ':?':
    case '?':
      if (present) return value as string;
      throw new MissingComposeVariableError(name, interpolateCompose(argument, variables));
    default: // ':+' and '+'
      return present ? interpolateCompose(argument, variables) : '';
  }
}

function interpolateTree(value: unknown, variables: VariableSource): unknown {
  if (typeof value === 'string') return interpolateCompose(value, variables);
  if (Array.isArray(value)) return value.map((item) => interpolateTree(item, variables));
  if (isRecord(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolateTree(item, variables)]),
    );
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What a test gives a required `${VAR:?…}` of docker-compose.yml: a valid value where the
 * variable has a format (a key must decode to 32 bytes), `test-<name>` otherwise.
 */
export function composeTestValue(name: string): string {
  const formatted: Record<string, () => string> = {
    KEY_ENCRYPTION_KEY: () => randomBytes(32).toString('base64'),
  };
  return formatted[name]?.() ?? `test-${name.toLowerCase()}`;
}

/** One entry of a service's `volumes:`: a bind mount of a host path, or a named volume. */
export interface ComposeMount {
  /** The host path (a bind mount, resolved against the compose file's folder) or the volume name. */
  source: string;
  target: string;
  bind: boolean;
  readOnly: boolean;
}

/** A service's `volumes:`, in short (`source:target[:ro]`) or long form. */
export function composeServiceMounts(
  compose: ComposeFile,
  service: string,
  composeFolder: string,
): ComposeMount[] {
  const volumes = (compose.services[service]?.['volumes'] ?? []) as (
    | string
    | { type?: string; source?: string; target: string; read_only?: boolean }
  )[];
  return volumes.map((volume) => {
    const [source = '', target = '', mode = ''] =
      typeof volume === 'string'
        ? volume.split(':')
        : [volume.source, volume.target, volume.read_only ? 'ro' : 'rw'];
    const bind = source.startsWith('.') || source.startsWith('/');
    return {
      source: bind ? resolve(composeFolder, source) : source,
      target,
      bind,
      readOnly: mode.split(',').includes('ro'),
    };
  });
}

/**
 * Stands in for docker-compose's volumes on this machine: a bind mount is its folder or file in the
 * repository, and each named volume a folder under `volumesFolder`, shared by every service that
 * mounts it, as compose shares it.
 */
export class ComposeVolumes {
  constructor(
    private readonly compose: ComposeFile,
    private readonly composeFolder: string,
    private readonly volumesFolder: string,
  ) {}

  /** Where `containerPath` of `service`'s container is here; undefined if it is in no mount. */
  hostPath(service: string, containerPath: string): string | undefined {
    const mount = composeServiceMounts(this.compose, service, this.composeFolder)
      .filter(
        (candidate) =>
          containerPath === candidate.target ||
          containerPath.startsWith(`${candidate.target.replace(/\/$/, '')}/`),
      )
      // The innermost mount wins, as in the container.
      .sort((a, b) => b.target.length - a.target.length)[0];
    if (!mount) return undefined;
    const source = mount.bind ? mount.source : join(this.volumesFolder, mount.source);
    if (!mount.bind) mkdirSync(source, { recursive: true });
    return join(source, posix.relative(mount.target, containerPath));
  }

  /** `environment` with every value that is a path inside one of `service`'s mounts made a host path. */
  onHost(service: string, environment: Record<string, string>): Record<string, string> {
    return Object.fromEntries(
      Object.entries(environment).map(([name, value]) => [
        name,
        (isAbsolute(value) && this.hostPath(service, value)) || value,
      ]),
    );
  }

  /**
   * Runs a one-shot service whose `command:` is `node <script> …` as docker-compose would: this
   * Node.js, exactly `environment` (the one compose gives the container) and its mounts here.
   * Returns its output; throws with it when the command fails.
   */
  runNodeService(service: string, environment: Record<string, string>): string {
    const command = this.compose.services[service]?.['command'];
    const argv = typeof command === 'string' ? command.split(/\s+/) : (command as string[]);
    if (!Array.isArray(argv) || argv[0] !== 'node') {
      throw new Error(`service "${service}" does not run \`node <script>\`: ${String(command)}`);
    }
    const args = argv
      .slice(1)
      .map((arg) => (isAbsolute(arg) && this.hostPath(service, arg)) || arg);
    const result = spawnSync(process.execPath, args, {
      env: this.onHost(service, environment),
      encoding: 'utf8',
      timeout: 30_000,
    });
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
    if (result.status !== 0) {
      throw new Error(`service "${service}" exited with ${result.status}:\n${output}`);
    }
    return output;
  }
}

/** Go's duration syntax, as compose-go parses durations (its str2duration adds days and weeks). */
const GO_DURATION = /^(0|[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d|w))+)$/;
const DURATIONS = {
  service: ['stop_grace_period'],
  healthcheck: ['interval', 'timeout', 'start_period', 'start_interval'],
};

/**
 * What Compose v2 refuses in a file its JSON schema has accepted: the checks compose-go (the
 * loader behind `docker compose config`) makes after the schema, in its checkConsistency and while
 * decoding, that Compose v1 does not make or makes differently. Give it the file as read with
 * the variables compose would see (readComposeFile with a VariableSource), since compose-go checks
 * the interpolated file; `${VAR:?}` without a value already failed there. Returns one line per
 * problem, [] when there is none.
 *
 * Not covered: the JSON schema itself (keys, types, enums); builds, images and anything a Docker
 * engine decides.
 */
export function composeV2Problems(compose: ComposeFile, composeFolder: string): string[] {
  const problems: string[] = [];
  const declared = (key: string) => Object.keys((compose[key] ?? {}) as Record<string, unknown>);
  const sources = (entries: unknown) =>
    ((entries ?? []) as (string | { source?: string })[]).map((entry) =>
      typeof entry === 'string' ? entry : (entry.source ?? ''),
    );
  for (const [name, service] of Object.entries(compose.services)) {
    const at = `services.${name}`;
    if (!service['image'] && !service['build'] && !service['provider']) {
      problems.push(`${at}: neither an image nor a build context`);
    }
    for (const target of Object.keys(dependsOnOf(service))) {
      if (!(target in compose.services))
        problems.push(`${at}: depends on undefined service ${target}`);
    }
    const networks = service['networks'];
    const networkNames = Array.isArray(networks) ? networks : Object.keys(networks ?? {});
    if (service['network_mode'] && networkNames.length > 0) {
      problems.push(`${at}: network_mode and networks exclude each other`);
    }
    for (const network of networkNames as string[]) {
      if (!declared('networks').includes(network) && network !== 'default') {
        problems.push(`${at}: refers to undefined network ${network}`);
      }
    }
    const mounts = composeServiceMounts(compose, name, composeFolder);
    for (const mount of mounts) {
      if (!mount.bind && mount.source && !declared('volumes').includes(mount.source)) {
        problems.push(`${at}: refers to undefined volume ${mount.source}`);
      }
    }
    const targets = mounts.map((mount) => mount.target);
    for (const target of new Set(
      targets.filter((target, index) => targets.indexOf(target) !== index),
    )) {
      problems.push(`${at}: ${target} is mounted twice`);
    }
    for (const key of ['secrets', 'configs']) {
      for (const source of sources(service[key])) {
        if (!declared(key).includes(source))
          problems.push(`${at}: refers to undefined ${key} ${source}`);
      }
    }
    const healthcheck = (service['healthcheck'] ?? {}) as Record<string, unknown>;
    const test = healthcheck['test'];
    if (Array.isArray(test) && !['CMD', 'CMD-SHELL', 'NONE'].includes(test[0])) {
      problems.push(`${at}.healthcheck.test must start with "CMD", "CMD-SHELL" or "NONE"`);
    }
    for (const [fields, values, prefix] of [
      [DURATIONS.service, service, at],
      [DURATIONS.healthcheck, healthcheck, `${at}.healthcheck`],
    ] as const) {
      for (const field of fields) {
        const value = values[field];
        if (value !== undefined && !GO_DURATION.test(String(value))) {
          problems.push(`${prefix}.${field}: ${String(value)} is not a duration (e.g. 10s, 1m30s)`);
        }
      }
    }
    const envFiles = service['env_file'] ?? [];
    for (const envFile of (typeof envFiles === 'string' ? [envFiles] : envFiles) as (
      | string
      | { path: string; required?: boolean }
    )[]) {
      const { path, required = true } = typeof envFile === 'string' ? { path: envFile } : envFile;
      if (required && !existsSync(resolve(composeFolder, path))) {
        problems.push(`${at}: env_file ${path} does not exist (required: false allows that)`);
      }
    }
  }
  const cycle = dependencyCycle(compose);
  if (cycle) problems.push(`dependency cycle: ${cycle.join(' -> ')}`);
  return problems;
}

function dependsOnOf(service: ComposeService): Record<string, unknown> {
  const dependsOn = service['depends_on'] ?? {};
  return Array.isArray(dependsOn)
    ? Object.fromEntries(dependsOn.map((name: string) => [name, {}]))
    : (dependsOn as Record<string, unknown>);
}

/** The first depends_on cycle found, as the services along it, or undefined. */
function dependencyCycle(compose: ComposeFile): string[] | undefined {
  const done = new Set<string>();
  const visit = (name: string, path: string[]): string[] | undefined => {
    if (path.includes(name)) return [...path.slice(path.indexOf(name)), name];
    if (done.has(name) || !compose.services[name]) return undefined;
    for (const next of Object.keys(dependsOnOf(compose.services[name]))) {
      const cycle = visit(next, [...path, name]);
      if (cycle) return cycle;
    }
    done.add(name);
    return undefined;
  };
  for (const name of Object.keys(compose.services)) {
    const cycle = visit(name, []);
    if (cycle) return cycle;
  }
  return undefined;
}
