import routesFile from '../../routes.json';

/** Where the table lives, for messages: the gateway bundles it at build time. */
export const ROUTES_FILE = 'apps/gateway/routes.json';

/**
 * `token`: the gateway requires a valid access token for the route's audience, with its scopes,
 * before anything is forwarded. `public`: it forwards and the service decides (auth-service's
 * paths mix open and guarded routes); a valid token still keys the caller's rate limit.
 */
export type RouteAccess = 'token' | 'public';

/** One row of the table, checked and with its defaults. */
export interface GatewayRoute {
  /** The public prefix, e.g. `/api/notes`: it and everything under it. */
  prefix: string;
  service: string;
  /** The service's own path for the prefix, e.g. `/notes`. */
  path: string;
  access: RouteAccess;
  /** The `aud` a token for this route must name: the service's own id by default. */
  audience: string;
  scopes: readonly string[];
  /** Requests per caller per window; undefined: the gateway's default. */
  rateLimit: number | undefined;
}

export interface RouteTable {
  /** Service name → port: the default upstream URL is made from both. */
  services: Readonly<Record<string, number>>;
  routes: readonly GatewayRoute[];
}

/** What is wrong with the table, every problem on a line of its own. */
export class RouteTableError extends Error {
  constructor(readonly problems: string[]) {
    super(`${ROUTES_FILE} is invalid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = RouteTableError.name;
  }
}

const PATH = /^(\/[A-Za-z0-9._~-]+)+$/;
const SERVICE = /^[a-z][a-z0-9-]{0,62}$/;
/** RFC 6749 §3.3 scope-token. */
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const ROUTE_KEYS = ['prefix', 'service', 'path', 'access', 'audience', 'scopes', 'rateLimit'];

/** The bundled table, checked. */
export function routeTable(): RouteTable {
  return readRouteTable(routesFile);
}

/**
 * The table from its JSON, or a RouteTableError naming every problem: an unknown service, a
 * prefix routed twice or inside another one, scopes on a public route, an unknown key.
 */
export function readRouteTable(file: unknown): RouteTable {
  const problems: string[] = [];
  const { services: rawServices, routes: rawRoutes } = (file ?? {}) as Record<string, unknown>;
  const services: Record<string, number> = {};
  for (const [name, definition] of Object.entries(asObject(rawServices))) {
    const port = (definition as { port?: unknown } | null)?.port;
    if (!SERVICE.test(name)) problems.push(`services: "${name}" is not a service name`);
    if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) {
      problems.push(`services.${name}.port must be a port number`);
    } else services[name] = port as number;
  }
  if (!Array.isArray(rawRoutes)) problems.push('routes must be a list');
  const routes = (Array.isArray(rawRoutes) ? rawRoutes : []).map((raw: unknown, index) =>
    readRoute(raw, `routes[${index}]`, services, problems),
  );
  for (const [index, route] of routes.entries()) {
    const clash = routes.findIndex(
      (other, otherIndex) =>
        otherIndex !== index &&
        (other.prefix === route.prefix || route.prefix.startsWith(`${other.prefix}/`)),
    );
    if (clash !== -1) {
      problems.push(
        `routes[${index}]: ${route.prefix} is already routed by routes[${clash}] (${routes[clash].prefix})`,
      );
    }
  }
  if (problems.length > 0) throw new RouteTableError(problems);
  return { services, routes };
}

function readRoute(
  raw: unknown,
  where: string,
  services: Record<string, number>,
  problems: string[],
): GatewayRoute {
  const route = asObject(raw);
  for (const key of Object.keys(route)) {
    if (!ROUTE_KEYS.includes(key)) problems.push(`${where}: unknown key ${key}`);
  }
  const { prefix, service, path = prefix, access, audience = service, scopes = [] } = route;
  const rateLimit = route['rateLimit'];
  if (typeof prefix !== 'string' || !PATH.test(prefix)) {
    problems.push(`${where}.prefix must be a path such as /api/orders`);
  }
  if (typeof path !== 'string' || !PATH.test(path)) {
    problems.push(`${where}.path must be a path such as /orders`);
  }
  if (typeof service !== 'string' || !(service in services)) {
    problems.push(`${where}.service must be one of services (${Object.keys(services).join(', ')})`);
  }
  if (access !== 'token' && access !== 'public') {
    problems.push(`${where}.access must be token or public`);
  }
  if (typeof audience !== 'string' || audience === '') {
    problems.push(`${where}.audience must be a service id`);
  }
  if (!Array.isArray(scopes) || !scopes.every((scope) => SCOPE.test(String(scope)))) {
    problems.push(`${where}.scopes must be a list of scope names`);
  } else if (scopes.length > 0 && access !== 'token') {
    problems.push(`${where}.scopes need access token: a public route checks no token`);
  }
  if (rateLimit !== undefined && !(Number.isInteger(rateLimit) && (rateLimit as number) >= 1)) {
    problems.push(`${where}.rateLimit must be a whole number of requests, 1 or more`);
  }
  return {
    prefix: String(prefix),
    service: String(service),
    path: String(path),
    access: access as RouteAccess,
    audience: String(audience),
    scopes: Array.isArray(scopes) ? scopes.map(String) : [],
    rateLimit: rateLimit as number | undefined,
  };
}

/**
 * Each service's base URL: the one UPSTREAMS names, else the template with `{service}` and
 * `{port}` filled in (`http://127.0.0.1:{port}` on one machine, `http://{service}:{port}` in
 * docker-compose and Kubernetes).
 */
export function upstreamUrls(
  table: RouteTable,
  template: string,
  named: ReadonlyMap<string, string>,
): Map<string, string> {
  return new Map(
    Object.entries(table.services).map(([service, port]) => [
      service,
      named.get(service) ??
        template.replaceAll('{service}', service).replaceAll('{port}', String(port)),
    ]),
  );
}

/** Every audience a route of the table asks for: what the edge's verifier accepts. */
export function routedAudiences(table: RouteTable): string[] {
  return [...new Set(table.routes.map((route) => route.audience))];
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
