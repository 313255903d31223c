import registryFile from '../../registry.json';
import { GRANT_TYPES } from './client.entity';
import type { GrantType } from './client.entity';

/** Where the registry lives, for messages: the service bundles it at build time. */
export const REGISTRY_FILE = 'apps/auth-service/registry.json';

/** auth-service's own audience: its account and admin APIs and its service endpoints. */
export const AUTH_SERVICE_AUDIENCE = 'auth-service';

/** A service tokens may be sent to: a token names it in `aud`. */
export interface RegisteredAudience {
  id: string;
  description: string;
}

/** A client as the registry declares it; its secret is never here. */
export interface RegisteredClient {
  id: string;
  type: 'public' | 'confidential';
  grantTypes: GrantType[];
  scopes: string[];
  /** The audiences its tokens may name (RFC 8707 `resource` picks among them). */
  audiences: string[];
  /** The audiences a token gets when nobody asks for any: a subset of `audiences`. */
  defaultAudiences: string[];
  /** authorization_code: where the browser may be sent back, exact strings (redirectUriProblem). */
  redirectUris: string[];
  /** RP-initiated logout: where the browser may be sent after signing out, exact strings. */
  postLogoutRedirectUris: string[];
  /** Tessera's own application: no consent page. */
  firstParty: boolean;
}

/** What is wrong with the registry, every problem on a line of its own. */
export class RegistryError extends Error {
  constructor(
    readonly problems: string[],
    origin: string,
  ) {
    super(`${origin} is invalid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = RegistryError.name;
  }
}

/** As the clients table's CHECK has it; never UUID-shaped, so never a user id (I6). */
const ID = /^[a-z][a-z0-9._-]{1,63}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** RFC 6749 §3.3 scope-token. */
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const CLIENT_KEYS = [
  'id',
  'type',
  'grantTypes',
  'scopes',
  'audiences',
  'defaultAudiences',
  'redirectUris',
  'postLogoutRedirectUris',
  'firstParty',
];
const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/**
 * What is wrong with a redirect or post-logout URI to register, if anything: an absolute https
 * URL (http only on a loopback host, for development), with no fragment (RFC 6749 §3.1.2) and no
 * user name or password, written as the URL parser would write it back, so the exact-string
 * comparison at the authorization endpoint cannot be fooled by two spellings of one URL.
 */
export function redirectUriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `"${uri}" is not an absolute URL`;
  }
  if (
    url.protocol !== 'https:' &&
    !(url.protocol === 'http:' && LOOPBACK_HOSTS.includes(url.hostname))
  ) {
    return `"${uri}" must be https (http only on localhost, 127.0.0.1 or [::1])`;
  }
  if (uri.includes('#')) return `"${uri}" must not have a fragment (RFC 6749 §3.1.2)`;
  if (url.username !== '' || url.password !== '')
    return `"${uri}" must not carry a user name or password`;
  if (url.href !== uri) return `"${uri}" must be written as ${url.href}`;
  return undefined;
}

/**
 * The services (audiences) and clients auth-service knows, from apps/auth-service/registry.json:
 * validated once at start-up, then read by whoever needs the registered audiences. RegistrySync
 * applies its clients to the clients table.
 */
export class Registry {
  private readonly audienceIdSet: ReadonlySet<string>;

  private constructor(
    readonly audiences: readonly RegisteredAudience[],
    readonly clients: readonly RegisteredClient[],
  ) {
    this.audienceIdSet = new Set(audiences.map((audience) => audience.id));
  }

  /** The registered audience ids, in the registry's order. */
  get audienceIds(): string[] {
    return this.audiences.map((audience) => audience.id);
  }

  isAudience(id: string): boolean {
    return this.audienceIdSet.has(id);
  }

  /** The registry the service was built with (the Nest provider's factory). */
  static load(): Registry {
    return Registry.parse(registryFile, REGISTRY_FILE);
  }

  /** Checks a registry as read from JSON; throws a RegistryError listing every problem. */
  static parse(source: unknown, origin = REGISTRY_FILE): Registry {
    const problems: string[] = [];
    if (!isObject(source)) throw new RegistryError(['must be a JSON object'], origin);
    for (const key of Object.keys(source)) {
      if (!['$schema', 'audiences', 'clients'].includes(key)) {
        problems.push(`unknown key "${key}" (expected audiences and clients)`);
      }
    }
    const audiences = readAudiences(source['audiences'], problems);
    const known = new Set(audiences.map((audience) => audience.id));
    const clients = readClients(source['clients'], known, problems);
    if (problems.length > 0) throw new RegistryError(problems, origin);
    return new Registry(audiences, clients);
  }
}

function readAudiences(value: unknown, problems: string[]): RegisteredAudience[] {
  if (!Array.isArray(value)) {
    problems.push('audiences must be a list of { id, description }');
    return [];
  }
  const audiences: RegisteredAudience[] = [];
  for (const [index, entry] of (value as unknown[]).entries()) {
    const audience = readAudience(entry, `audiences[${index}]`, problems);
    if (!audience) continue;
    if (audiences.some(({ id }) => id === audience.id)) {
      problems.push(`audiences[${index}]: the audience "${audience.id}" is listed twice`);
    } else {
      audiences.push(audience);
    }
  }
  if (!audiences.some(({ id }) => id === AUTH_SERVICE_AUDIENCE)) {
    problems.push(`audiences must include "${AUTH_SERVICE_AUDIENCE}" (auth-service's own APIs)`);
  }
  return audiences;
}

function readAudience(
  entry: unknown,
  where: string,
  problems: string[],
): RegisteredAudience | undefined {
  if (!isObject(entry)) {
    problems.push(`${where} must be an object { id, description }`);
    return undefined;
  }
  const before = problems.length;
  const { id, description } = entry;
  for (const key of Object.keys(entry)) {
    if (key !== 'id' && key !== 'description') problems.push(`${where}: unknown key "${key}"`);
  }
  if (typeof id !== 'string' || !ID.test(id)) {
    problems.push(`${where}: id ${JSON.stringify(id)} is not a service id (${ID.source})`);
  }
  if (typeof description !== 'string' || description.trim() === '') {
    problems.push(`${where}: description must be a non-empty string`);
  }
  return problems.length === before
    ? { id: id as string, description: description as string }
    : undefined;
}

function readClients(
  value: unknown,
  knownAudiences: ReadonlySet<string>,
  problems: string[],
): RegisteredClient[] {
  if (!Array.isArray(value)) {
    problems.push('clients must be a list');
    return [];
  }
  const clients: RegisteredClient[] = [];
  for (const [index, entry] of (value as unknown[]).entries()) {
    const client = readClient(entry, `clients[${index}]`, knownAudiences, problems);
    if (!client) continue;
    if (clients.some(({ id }) => id === client.id)) {
      problems.push(`clients[${index}] "${client.id}": the client "${client.id}" is listed twice`);
    } else {
      clients.push(client);
    }
  }
  return clients;
}

function readClient(
  entry: unknown,
  at: string,
  knownAudiences: ReadonlySet<string>,
  problems: string[],
): RegisteredClient | undefined {
  if (!isObject(entry)) {
    problems.push(`${at} must be an object`);
    return undefined;
  }
  const { id, type } = entry;
  if (typeof id !== 'string' || !ID.test(id) || UUID.test(id)) {
    problems.push(
      `${at}: id ${JSON.stringify(id)} is not a client id (2–64 characters: a lower-case letter, then letters, digits, ".", "_" or "-")`,
    );
    return undefined;
  }
  const where = `${at} "${id}"`;
  const before = problems.length;
  for (const key of Object.keys(entry)) {
    if (/secret/i.test(key)) {
      problems.push(
        `${where}: "${key}": secrets never go in the registry (CLIENT_SECRETS or the clients command set them)`,
      );
    } else if (!CLIENT_KEYS.includes(key)) {
      problems.push(`${where}: unknown key "${key}" (expected ${CLIENT_KEYS.join(', ')})`);
    }
  }
  if (type !== 'public' && type !== 'confidential') {
    problems.push(`${where}: type must be "public" or "confidential", not ${JSON.stringify(type)}`);
  }
  const grantTypes = readList(entry['grantTypes'], `${where}: grantTypes`, problems, (grant) =>
    (GRANT_TYPES as readonly string[]).includes(grant)
      ? undefined
      : `"${grant}" is not one of ${GRANT_TYPES.join(', ')}`,
  ) as GrantType[];
  if (grantTypes.length === 0 && Array.isArray(entry['grantTypes'])) {
    problems.push(`${where}: grantTypes needs at least one of ${GRANT_TYPES.join(', ')}`);
  }
  if (type === 'public' && grantTypes.includes('client_credentials')) {
    problems.push(`${where}: a public client holds no secret, so it cannot use client_credentials`);
  }
  const scopes = readList(entry['scopes'], `${where}: scopes`, problems, (scope) =>
    SCOPE.test(scope) ? undefined : `"${scope}" is not a scope token (RFC 6749 §3.3)`,
  );
  const registered = [...knownAudiences].join(', ') || 'none';
  const audiences = readList(entry['audiences'], `${where}: audiences`, problems, (audience) =>
    knownAudiences.has(audience)
      ? undefined
      : `"${audience}" is not a registered audience (${registered}); add it to audiences first`,
  );
  const defaultAudiences = readList(
    entry['defaultAudiences'],
    `${where}: defaultAudiences`,
    problems,
    (audience) =>
      audiences.includes(audience)
        ? undefined
        : `"${audience}" is not among this client's audiences (${audiences.join(', ') || 'none'})`,
  );
  const redirectUris = readOptionalList(entry['redirectUris'], `${where}: redirectUris`, problems);
  const postLogoutRedirectUris = readOptionalList(
    entry['postLogoutRedirectUris'],
    `${where}: postLogoutRedirectUris`,
    problems,
  );
  if (grantTypes.includes('authorization_code') !== redirectUris.length > 0) {
    problems.push(
      `${where}: a client has redirectUris exactly when it has the authorization_code grant`,
    );
  }
  const firstParty = entry['firstParty'] ?? false;
  if (typeof firstParty !== 'boolean') problems.push(`${where}: firstParty must be true or false`);
  if (problems.length > before) return undefined;
  return {
    id,
    type: type as RegisteredClient['type'],
    grantTypes,
    scopes,
    audiences,
    defaultAudiences,
    redirectUris,
    postLogoutRedirectUris,
    firstParty: firstParty as boolean,
  };
}

/** A list of distinct redirect URIs; absent means none. */
function readOptionalList(value: unknown, where: string, problems: string[]): string[] {
  return value === undefined ? [] : readList(value, where, problems, redirectUriProblem);
}

/** A list of distinct strings, each passing `check` (which returns what is wrong, if anything). */
function readList(
  value: unknown,
  where: string,
  problems: string[],
  check: (item: string) => string | undefined,
): string[] {
  if (!Array.isArray(value)) {
    problems.push(`${where} must be a list of strings`);
    return [];
  }
  const items: string[] = [];
  for (const item of value as unknown[]) {
    if (typeof item !== 'string') {
      problems.push(`${where}: ${JSON.stringify(item)} is not a string`);
      continue;
    }
    const problem = check(item);
    if (problem) problems.push(`${where}: ${problem}`);
    else if (items.includes(item)) problems.push(`${where}: "${item}" is listed twice`);
    else items.push(item);
  }
  return items;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
