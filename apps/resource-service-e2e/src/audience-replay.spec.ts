import { createTestDatabase, ServiceProcess } from '@tessera/platform-testing';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { call, claimsOf, startTesseraSystem } from './support/tessera-system';
import type { TesseraSystem } from './support/tessera-system';

/**
 * Issue 15, point 3: a token works only where it was sent (RFC 8707, RFC 9068 §4). A user's and
 * an admin's token for resource-service, replayed at every protected route of auth-service, and
 * at a second resource service, is refused there every time (401 `invalid_token`) and changes
 * nothing; the same routes work with a token asked for them. The reverse too: a token for
 * auth-service is refused at resource-service's routes.
 *
 * The protected routes are read from each running service's OpenAPI document (`/docs-json`, on
 * under NODE_ENV=test): every operation with a bearer security requirement, so a new route is
 * replayed at without a change here. The routes this suite knows are also proved to work with the
 * right token in detail; any other must at least get past the guard with it (not 401/403).
 * Every replay starts from fresh sessions or a fresh note and checks afterwards that they are as
 * they were, so a replay let through shows on its own line even when it was destructive.
 *
 * The second service is resource-service's build run again as `orders-service`, next to an
 * auth-service whose registry has the entries the generator would add (see beforeAll).
 */

const AUTH_PORT = 13101;
const RESOURCE_PORT = 13102;
const ORDERS_PORT = 13103;
const ORDERS = 'orders-service';
const INVALID_TOKEN = 'Bearer error="invalid_token"';
const dist = (name: string) => resolve(__dirname, '../../../dist/apps', name, 'main.js');
const run = promisify(execFile);

/**
 * auth-service as built after `nx g @tessera/workspace-plugin:service orders`: the registry
 * (apps/auth-service/registry.json, data that webpack inlines into the bundle) with the entries
 * the generator appends: the orders-service audience, the first-party client allowed to ask for
 * it (never by default), and orders-service's own confidential client. Rather than build
 * auth-service a second time, this copies its build with that registry in place of the one it
 * was built with, and fails if the build does not hold the workspace's registry verbatim.
 */
function authServiceBuiltWithOrders(): string {
  const registryFile = resolve(__dirname, '../../auth-service/registry.json');
  const registry = JSON.parse(readFileSync(registryFile, 'utf8')) as {
    audiences: { id: string; description: string }[];
    clients: ({ id: string; audiences: string[] } & Record<string, unknown>)[];
  };
  // As webpack inlines a JSON module: JSON.parse('<the JSON, compact>').
  const inlined = (value: unknown) =>
    `JSON.parse('${JSON.stringify(value).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}')`;
  const bundle = readFileSync(dist('auth-service'), 'utf8');
  const built = inlined(registry);
  if (bundle.split(built).length !== 2) {
    throw new Error(
      `${dist('auth-service')} does not hold ${registryFile} as it is: build auth-service again`,
    );
  }
  registry.audiences.push({ id: ORDERS, description: 'the orders API (a generated service)' });
  registry.clients.find(({ id }) => id === 'tessera-first-party')?.audiences.push(ORDERS);
  registry.clients.push({
    id: ORDERS,
    type: 'confidential',
    grantTypes: ['client_credentials'],
    scopes: ['tokens:introspect', 'revocations:read'],
    audiences: ['auth-service'],
    defaultAudiences: ['auth-service'],
  });
  const main = resolve(__dirname, '../../../dist/audience-replay/auth-service/main.js');
  mkdirSync(dirname(main), { recursive: true });
  writeFileSync(
    main,
    bundle.replace(built, () => inlined(registry)),
  );
  // The hosted pages' templates and stylesheet, which the bundle reads beside itself.
  cpSync(join(dirname(dist('auth-service')), 'views'), join(dirname(main), 'views'), {
    recursive: true,
  });
  return main;
}

/** That copy of auth-service's build: the one this suite runs. */
let AUTH_MAIN: string;

let system: TesseraSystem;
let ISSUER: string;
let RESOURCE: string;
let ORDERS_URL: string;
/** A second resource service: see beforeAll. */
let orders: ServiceProcess;
const KEY_ENCRYPTION_KEY = randomBytes(32).toString('base64');

/** An operation of an OpenAPI document that takes a bearer token, with the scopes it names. */
interface Route {
  method: string;
  /** As the document has it: `/auth/sessions/{id}`. */
  path: string;
  key: string;
  scopes: string[];
  /** The request body's media type, if it has one. */
  body?: 'json' | 'form';
}

interface OpenApiOperation {
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, unknown> };
}

async function bearerRoutes(base: string): Promise<Route[]> {
  const response = await fetch(`${base}/docs-json`);
  expect(response.status).toBe(200);
  const document = (await response.json()) as {
    paths: Record<string, Record<string, OpenApiOperation>>;
  };
  const routes: Route[] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const bearer = operation.security?.find((requirement) => 'bearer' in requirement);
      if (!bearer) continue;
      const media = Object.keys(operation.requestBody?.content ?? {});
      routes.push({
        method: method.toUpperCase(),
        path,
        key: `${method.toUpperCase()} ${path}`,
        scopes: bearer['bearer'] ?? [],
        body: media.includes('application/json')
          ? 'json'
          : media.includes('application/x-www-form-urlencoded')
            ? 'form'
            : undefined,
      });
    }
  }
  return routes;
}

interface Answer {
  status: number;
  challenge: string | null;
  contentType: string | null;
  body: Record<string, unknown>;
}

interface RouteRequest {
  /** Path parameters by name; a missing one is a random UUID. */
  params?: Record<string, string>;
  query?: string;
  body?: Record<string, string>;
}

/** One request to `route`; an event stream is cut off once its head has arrived. */
async function send(
  base: string,
  route: Route,
  token: string,
  request: RouteRequest = {},
): Promise<Answer> {
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(request.params?.[name] ?? randomUUID()),
  );
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  let body: string | undefined;
  if (route.body === 'json') {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(request.body ?? {});
  } else if (route.body === 'form') {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(request.body ?? {}).toString();
  }
  const abort = new AbortController();
  const response = await fetch(`${base}${path}${request.query ? `?${request.query}` : ''}`, {
    method: route.method,
    headers,
    body,
    signal: abort.signal,
  });
  const contentType = response.headers.get('content-type');
  let text = '';
  if (contentType?.startsWith('text/event-stream')) abort.abort();
  else text = await response.text();
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    contentType,
    body: text && contentType?.includes('json') ? JSON.parse(text) : {},
  };
}

/** A registered account and its two sessions: the default login, and one asked for auth-service. */
interface Account {
  email: string;
  password: string;
  /** The user id (`sub`). */
  id: string;
  /** The default login's access token: for resource-service only. */
  resourceToken: string;
  /** A login asking for `resource: 'auth-service'` (and `scope: 'admin'` for an admin). */
  accountToken: string;
}

function audiencesOf(token: string): string[] {
  const aud = claimsOf(token)['aud'];
  return Array.isArray(aud) ? (aud as string[]) : [aud as string];
}

async function register(): Promise<{ email: string; password: string }> {
  const account = {
    email: `replay-${randomBytes(6).toString('hex')}@example.com`,
    password: 'correct horse battery staple',
  };
  expect((await call(`${ISSUER}/auth/register`, 'POST', account)).status).toBe(201);
  return account;
}

async function login(
  account: { email: string; password: string },
  ask: { resource?: string | string[]; scope?: string } = {},
): Promise<{ access_token: string; refresh_token: string }> {
  const { email, password } = account;
  const reply = await call(`${ISSUER}/auth/login`, 'POST', { email, password, ...ask });
  if (reply.status !== 200) throw new Error(`login failed: ${JSON.stringify(reply)}`);
  return reply.body as { access_token: string; refresh_token: string };
}

/** Registers and signs in twice: the default way, and asking for auth-service's APIs. */
async function signUp(admin = false): Promise<Account> {
  const credentials = await register();
  if (admin) {
    // As an operator makes the first admin (see create-admin.spec.ts): the built command, next
    // to the database, while the service runs.
    const stdout = await authCommand('create-admin', credentials.email);
    expect(stdout).toContain('is now an admin');
  }
  const resource = await login(credentials);
  const account = await login(credentials, {
    resource: 'auth-service',
    ...(admin && { scope: 'admin' }),
  });
  expect(audiencesOf(resource.access_token)).toEqual(['resource-service']);
  expect(audiencesOf(account.access_token)).toEqual(['auth-service']);
  expect(claimsOf(resource.access_token)['roles']).toEqual(admin ? ['user', 'admin'] : ['user']);
  return {
    ...credentials,
    id: claimsOf(resource.access_token)['sub'] as string,
    resourceToken: resource.access_token,
    accountToken: account.access_token,
  };
}

/**
 * One of auth-service's commands, run by the same bundle next to the database while the service
 * runs, as an operator would (see create-admin.spec.ts); its output. (A command applies the
 * registry too, as every start does: it must be the bundle with orders-service's entry.)
 */
async function authCommand(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [AUTH_MAIN, ...args], {
    env: {
      PATH: process.env['PATH'] ?? '',
      NODE_ENV: 'test',
      DATABASE_URL: system.authDatabase,
      KEY_ENCRYPTION_KEY,
      ISSUER,
    },
  });
  return stdout;
}

const sidOf = (token: string) => claimsOf(token)['sid'] as string;

/** A service token (client credentials) of resource-service's own client, for auth-service. */
async function serviceToken(scope: string): Promise<string> {
  const response = await fetch(`${ISSUER}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`resource-service:${system.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope,
      resource: 'auth-service',
    }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function kidsOfJwks(): Promise<string[]> {
  const { keys } = (await (await fetch(`${ISSUER}/.well-known/jwks.json`)).json()) as {
    keys: { kid: string }[];
  };
  return keys.map((key) => key.kid).sort();
}

let user: Account;
let admin: Account;
let authRoutes: Route[];

beforeAll(async () => {
  AUTH_MAIN = authServiceBuiltWithOrders();
  system = await startTesseraSystem({
    authPort: AUTH_PORT,
    resourcePort: RESOURCE_PORT,
    name: 'replay',
    // The user and the admin sign in twice for every route replayed at (freshSessions): past
    // the default MAX_SESSIONS_PER_USER (50) their first sessions, which the suite checks at the
    // end, would be ended as the oldest.
    authEnv: { KEY_ENCRYPTION_KEY, MAX_SESSIONS_PER_USER: '1000' },
    authMain: AUTH_MAIN,
  });
  ({ issuer: ISSUER, resourceUrl: RESOURCE } = system);
  ORDERS_URL = `http://127.0.0.1:${ORDERS_PORT}`;

  [user, admin] = [await signUp(), await signUp(true)];

  // orders-service's client is registered without a secret; an operator gives it one.
  const rotated = await authCommand('clients', 'rotate-secret', ORDERS);
  const ordersSecret = rotated.trim().split('\n').at(-1) ?? '';
  expect(ordersSecret).toMatch(/^[\w-]{32,}$/);

  // The "generated second service": resource-service's build again, as orders-service. A
  // generated service is wired exactly so (the template's app.module imports
  // @tessera/auth-resource-server's AuthModule, whose global JwtAuthGuard checks `aud` against
  // AUTH_AUDIENCE). It calls auth-service as its own client, as a generated service does: only a
  // token's audience may introspect it.
  orders = await ServiceProcess.start({
    main: dist('resource-service'),
    url: ORDERS_URL,
    env: {
      NODE_ENV: 'test',
      PORT: String(ORDERS_PORT),
      DATABASE_URL: await createTestDatabase('replay_orders'),
      AUTH_ISSUER: ISSUER,
      AUTH_AUDIENCE: ORDERS,
      AUTH_CLIENT_ID: ORDERS,
      AUTH_CLIENT_SECRET: ordersSecret,
      LOG_LEVEL: 'info',
    },
  });

  authRoutes = await bearerRoutes(ISSUER);
});

afterAll(async () => {
  const ordersExit = await orders?.stop();
  if (ordersExit !== 0)
    console.error(`orders-service exited with ${ordersExit}:\n${orders?.logs.slice(-4000)}`);
  expect(await system?.stop()).toEqual([0, 0]);
  expect(ordersExit).toBe(0);
});

/** The routes this suite proves in detail; the document must still list them all. */
const KNOWN_AUTH_ROUTES = [
  'POST /auth/logout-all',
  'GET /auth/sessions',
  'DELETE /auth/sessions/{id}',
  'POST /auth/password',
  'POST /admin/keys/rotate',
  'POST /admin/users/{id}/disable',
  'POST /oauth/introspect',
  'GET /userinfo',
  'GET /revocations',
];

/**
 * `POST /auth/logout` is public (a refresh token ends its session) but also takes a bearer token
 * for auth-service instead: the document shows no bearer requirement, so it is added here.
 */
const LOGOUT_WITH_BEARER: Route = {
  method: 'POST',
  path: '/auth/logout',
  key: 'POST /auth/logout (bearer)',
  scopes: [],
  body: 'json',
};

/** Two fresh sessions of an account: one asked for `resource`, one for auth-service's APIs. */
interface Sessions {
  replayed: string;
  account: string;
}

async function freshSessions(
  account: Account,
  resource: string,
  admin: boolean,
): Promise<Sessions> {
  const replayed = (await login(account, { resource })).access_token;
  const forAuthService = await login(account, {
    resource: 'auth-service',
    ...(admin && { scope: 'admin' }),
  });
  return { replayed, account: forAuthService.access_token };
}

/**
 * What a replayed token would do if it were let through: aimed at the replaying account's other
 * session, at the user's account, with the right current password, so that a refusal that was
 * not would show.
 */
function harmfulRequest(route: Route, replayer: Account, sessions: Sessions): RouteRequest {
  switch (route.key) {
    case 'DELETE /auth/sessions/{id}':
      return { params: { id: sidOf(sessions.account) } };
    case 'POST /auth/password':
      return {
        body: { current_password: replayer.password, new_password: 'a replayed new passphrase 42' },
      };
    case 'POST /admin/users/{id}/disable':
      return { params: { id: user.id } };
    case 'POST /oauth/introspect':
      return { body: { token: sessions.account } };
    default:
      return {};
  }
}

/**
 * Routes that, let through, would lock an account (its password, disabling it) go last: every
 * other route is replayed at while the accounts are as they were.
 */
const LOCKING = ['POST /auth/password', 'POST /admin/users/{id}/disable'];
const lockingLast = (routes: Route[]) =>
  [...routes].sort((a, b) => LOCKING.indexOf(a.key) - LOCKING.indexOf(b.key));

/** One replay, made ready: the token, the request, and whether it changed nothing (asked after). */
interface Attempt {
  token: string;
  request: RouteRequest;
  unchanged(): Promise<boolean>;
}

interface Replayer {
  name: string;
  prepare(route: Route): Promise<Attempt>;
}

interface Replay {
  route: string;
  token: string;
  status: number;
  challenge: string | null;
  unchanged: boolean;
}

/** Sends each replayer's token to each route; what each answered, and whether it changed nothing. */
async function replay(base: string, routes: Route[], replayers: Replayer[]): Promise<Replay[]> {
  const answers: Replay[] = [];
  for (const route of routes) {
    for (const replayer of replayers) {
      const answer = { route: route.key, token: replayer.name };
      // An earlier replay that was let through may have locked the account: say so, and go on.
      const attempt = await replayer.prepare(route).catch((error: Error) => error);
      if (attempt instanceof Error) {
        answers.push({ ...answer, status: 0, challenge: attempt.message, unchanged: false });
        continue;
      }
      const { status, challenge } = await send(base, route, attempt.token, attempt.request);
      answers.push({ ...answer, status, challenge, unchanged: await attempt.unchanged() });
    }
  }
  return answers;
}

const refused = (answers: Replay[]) =>
  answers.map((answer) => ({
    ...answer,
    status: 401,
    challenge: INVALID_TOKEN,
    unchanged: true,
  }));

/** Whether both sessions are still live: the one whose token was replayed and the other. */
async function bothLive(sessions: Sessions): Promise<boolean> {
  const list = await call(`${ISSUER}/auth/sessions`, 'GET', undefined, sessions.account);
  if (list.status !== 200) return false;
  const ids = (list.body['sessions'] as { id: string }[]).map((session) => session.id);
  return ids.includes(sidOf(sessions.replayed)) && ids.includes(sidOf(sessions.account));
}

/**
 * A token of `account`'s for `resource`, replayed at auth-service: each time from two fresh
 * sessions, which must both be live afterwards.
 */
function atAuthService(name: string, account: Account, resource: string): Replayer {
  return {
    name,
    async prepare(route) {
      const sessions = await freshSessions(account, resource, account === admin);
      return {
        token: sessions.replayed,
        request: harmfulRequest(route, account, sessions),
        unchanged: () => bothLive(sessions),
      };
    },
  };
}

/** The user's and the admin's resource-service tokens, replayed at every route of auth-service. */
function replayResourceTokensAtAuthService(): Promise<Replay[]> {
  return replay(ISSUER, lockingLast([...authRoutes, LOGOUT_WITH_BEARER]), [
    atAuthService("user's resource-service token", user, 'resource-service'),
    atAuthService("admin's resource-service token", admin, 'resource-service'),
  ]);
}

/** Nothing the replays aimed at happened: sessions, passwords, accounts and keys as they were. */
async function expectNothingChanged(kidsBefore: string[]): Promise<void> {
  for (const account of [user, admin]) {
    expect(await bothLive({ replayed: account.resourceToken, account: account.accountToken })).toBe(
      true,
    );
    // The password is the old one and the account is not disabled.
    const again = await call(`${ISSUER}/auth/login`, 'POST', {
      email: account.email,
      password: account.password,
    });
    expect(again.status).toBe(200);
  }
  expect(await kidsOfJwks()).toEqual(kidsBefore);
}

describe("auth-service's protected routes, replayed at with resource-service tokens", () => {
  it('reads them from the OpenAPI document', () => {
    const keys = authRoutes.map((route) => route.key);
    expect(keys).toEqual(expect.arrayContaining(KNOWN_AUTH_ROUTES));
    console.log(`auth-service's bearer routes (${keys.length}): ${keys.join(', ')}`);
  });

  it("refuses the user's and the admin's resource-service token at every one, 401 invalid_token, changing nothing", async () => {
    const kids = await kidsOfJwks();
    const answers = await replayResourceTokensAtAuthService();
    expect(answers).toHaveLength((authRoutes.length + 1) * 2);
    expect(answers).toEqual(refused(answers));
    await expectNothingChanged(kids);
  });

  describe('answers each one as usual to a token asked for it', () => {
    /** The token a route asks for: a fresh user's, asking for auth-service and the route's scopes, else a service's. */
    async function tokenFor(route: Route): Promise<string> {
      const reply = await call(`${ISSUER}/auth/login`, 'POST', {
        ...(await register()),
        resource: 'auth-service',
        ...(route.scopes.length > 0 && { scope: route.scopes.join(' ') }),
      });
      if (reply.status === 200) return reply.body['access_token'] as string;
      // A scope no user may have (tokens:introspect, revocations:read) is a service's.
      expect(reply.body['error']).toBe('invalid_scope');
      return serviceToken(route.scopes.join(' '));
    }

    const route = (key: string) => {
      const found = authRoutes.find((candidate) => candidate.key === key);
      if (!found) throw new Error(`${key} is not in auth-service's OpenAPI document`);
      return found;
    };

    /** A fresh user with a token for auth-service and a second, default session. */
    async function freshUser() {
      const credentials = await register();
      const other = await login(credentials);
      const token = (await login(credentials, { resource: 'auth-service' })).access_token;
      return { credentials, token, other: other.access_token };
    }

    const sessionsOf = async (token: string) =>
      call(`${ISSUER}/auth/sessions`, 'GET', undefined, token);

    it('POST /auth/logout-all: 204, and every session of the user ends', async () => {
      const { token } = await freshUser();
      expect((await send(ISSUER, route('POST /auth/logout-all'), token)).status).toBe(204);
      expect((await sessionsOf(token)).status).toBe(401);
    });

    it('GET /auth/sessions: 200, the caller’s sessions', async () => {
      const { token, other } = await freshUser();
      const answer = await send(ISSUER, route('GET /auth/sessions'), token);
      expect(answer.status).toBe(200);
      const ids = (answer.body['sessions'] as { id: string }[]).map((session) => session.id);
      expect(ids.sort()).toEqual([sidOf(token), sidOf(other)].sort());
    });

    it('DELETE /auth/sessions/{id}: 204 for one of the caller’s, 404 for a random id', async () => {
      const { token, other } = await freshUser();
      const endSession = route('DELETE /auth/sessions/{id}');
      expect((await send(ISSUER, endSession, token)).status).toBe(404);
      expect((await send(ISSUER, endSession, token, { params: { id: sidOf(other) } })).status).toBe(
        204,
      );
      const left = (await sessionsOf(token)).body['sessions'] as { id: string }[];
      expect(left.map((session) => session.id)).toEqual([sidOf(token)]);
    });

    it('POST /auth/password: 200, and the new password signs in', async () => {
      const { credentials, token } = await freshUser();
      const password = 'a changed passphrase for the replay';
      const answer = await send(ISSUER, route('POST /auth/password'), token, {
        body: { current_password: credentials.password, new_password: password },
      });
      expect(answer.status).toBe(200);
      expect(answer.body['access_token']).toEqual(expect.any(String));
      expect(
        (await call(`${ISSUER}/auth/login`, 'POST', { email: credentials.email, password })).status,
      ).toBe(200);
    });

    it("POST /admin/keys/rotate: 200 with the admin's token for auth-service, scope admin", async () => {
      const before = await kidsOfJwks();
      const answer = await send(ISSUER, route('POST /admin/keys/rotate'), admin.accountToken);
      expect(answer.status).toBe(200);
      expect(await kidsOfJwks()).toEqual(expect.arrayContaining([...before, answer.body['kid']]));
    });

    it("POST /admin/users/{id}/disable: 204 with the admin's token, 404 for a random id; the user's login is refused", async () => {
      const disable = route('POST /admin/users/{id}/disable');
      const victim = await register();
      const victimId = claimsOf((await login(victim)).access_token)['sub'] as string;
      expect((await send(ISSUER, disable, admin.accountToken)).status).toBe(404);
      expect(
        (await send(ISSUER, disable, admin.accountToken, { params: { id: victimId } })).status,
      ).toBe(204);
      expect((await call(`${ISSUER}/auth/login`, 'POST', victim)).status).toBe(401);
    });

    it('POST /oauth/introspect: 200 with a service token with tokens:introspect', async () => {
      const answer = await send(
        ISSUER,
        route('POST /oauth/introspect'),
        await serviceToken('tokens:introspect'),
        {
          body: { token: user.resourceToken },
        },
      );
      expect(answer).toMatchObject({ status: 200, body: { active: true, sub: user.id } });
    });

    it('GET /userinfo: 200 with a token asked for auth-service and openid', async () => {
      const credentials = await register();
      const { access_token: token } = await login(credentials, {
        resource: 'auth-service',
        scope: 'openid',
      });
      const answer = await send(ISSUER, route('GET /userinfo'), token);
      expect(answer).toMatchObject({ status: 200, body: { sub: claimsOf(token)['sub'] } });
    });

    it('GET /revocations: 200, an event stream, with a service token with revocations:read', async () => {
      const answer = await send(
        ISSUER,
        route('GET /revocations'),
        await serviceToken('revocations:read'),
      );
      expect(answer.status).toBe(200);
      expect(answer.contentType).toMatch(/^text\/event-stream/);
    });

    it('POST /auth/logout with a bearer token for auth-service: 204, and its session ends', async () => {
      const { token, other } = await freshUser();
      expect((await send(ISSUER, LOGOUT_WITH_BEARER, token)).status).toBe(204);
      expect((await sessionsOf(token)).status).toBe(401);
      // Only that session: the user's other one goes on.
      expect((await call(`${RESOURCE}/notes`, 'GET', undefined, other)).status).toBe(200);
    });

    it('any other bearer route: past the guard with a token asked for it (not 401, not 403)', async () => {
      const answers: { route: string; status: number; challenge: string | null }[] = [];
      for (const other of authRoutes.filter(({ key }) => !KNOWN_AUTH_ROUTES.includes(key))) {
        const { status, challenge } = await send(ISSUER, other, await tokenFor(other));
        answers.push({ route: other.key, status, challenge });
      }
      // A step-up route (removing a second factor) asks a password-only token for a fresh second
      // factor (RFC 9470): past the audience and scope checks, that is its own answer.
      const stepUp = (challenge: string | null) =>
        challenge?.includes('error="insufficient_user_authentication"') === true;
      expect(
        answers.filter(
          ({ status, challenge }) => (status === 401 && !stepUp(challenge)) || status === 403,
        ),
      ).toEqual([]);
    });
  });

  it('refuses them again, every time, after the right tokens have been used', async () => {
    const kids = await kidsOfJwks();
    const answers = await replayResourceTokensAtAuthService();
    expect(answers).toEqual(refused(answers));
    await expectNothingChanged(kids);
  });
});

/** A note of the token's owner at `base`; its id. */
async function noteAt(base: string, token: string, title = 'kept'): Promise<string> {
  const created = await call(`${base}/notes`, 'POST', { title }, token);
  expect(created.status).toBe(201);
  return created.body['id'] as string;
}

/** What a replayed token would do at a notes service: every owner's notes, someone's note. */
function harmfulNotesRequest(route: Route, noteId: string): RouteRequest {
  return {
    params: { id: noteId },
    ...(route.key === 'GET /notes' && { query: 'all=true' }),
    ...(route.body && { body: { title: 'replayed' } }),
  };
}

/** Each route with a note of the token's own (made first): every one must answer 2xx. */
async function expectEveryRouteWorks(
  base: string,
  routes: Route[],
  tokens: Record<string, string>,
) {
  const answers: { route: string; token: string; status: number; challenge: string | null }[] = [];
  for (const route of routes) {
    for (const [name, token] of Object.entries(tokens)) {
      const noteId = await noteAt(base, token, 'mine');
      const { status, challenge } = await send(base, route, token, {
        params: { id: noteId },
        ...(route.body && { body: { title: 'changed' } }),
      });
      answers.push({ route: route.key, token: name, status, challenge });
    }
  }
  // A route for verified addresses only (GET /ping/verified), or for a sign-in with a second
  // factor (GET /ping/second-factor), takes the token, then asks what these new accounts have
  // not done yet: that refusal is its own, not the audience's.
  const askedMore = (challenge: string | null) =>
    /error="(email_not_verified|insufficient_user_authentication)"/.test(challenge ?? '');
  expect(
    answers
      .filter(({ status, challenge }) => (status < 200 || status > 299) && !askedMore(challenge))
      .map(({ route, token, status }) => ({ route, token, status })),
  ).toEqual([]);
  return answers.length;
}

/** Whether the note is still there as it was written. */
async function noteKept(base: string, token: string, noteId: string): Promise<boolean> {
  const note = await call(`${base}/notes/${noteId}`, 'GET', undefined, token);
  return note.status === 200 && note.body['title'] === 'kept';
}

/**
 * A token replayed at a notes service (resource-service's build): each time aimed at a fresh note
 * of the same account's (made with `owner`, its token there), which must be there afterwards as
 * it was written.
 */
function atNotes(base: string, name: string, replayed: string, owner: string): Replayer {
  return {
    name,
    async prepare(route) {
      const noteId = await noteAt(base, owner);
      return {
        token: replayed,
        request: harmfulNotesRequest(route, noteId),
        unchanged: () => noteKept(base, owner, noteId),
      };
    },
  };
}

describe("resource-service's protected routes, replayed at with auth-service tokens", () => {
  it("refuses the user's and the admin's token for auth-service at every one, 401 invalid_token, changing nothing; resource-service tokens work there", async () => {
    const routes = await bearerRoutes(RESOURCE);
    expect(routes.map(({ key }) => key)).toEqual(
      expect.arrayContaining(['GET /notes', 'DELETE /notes', 'PATCH /notes/{id}', 'GET /me']),
    );
    const answers = await replay(RESOURCE, routes, [
      atNotes(RESOURCE, "user's auth-service token", user.accountToken, user.resourceToken),
      atNotes(RESOURCE, "admin's auth-service token", admin.accountToken, admin.resourceToken),
    ]);
    expect(answers).toHaveLength(routes.length * 2);
    expect(answers).toEqual(refused(answers));

    expect(
      await expectEveryRouteWorks(RESOURCE, routes, {
        "user's resource-service token": user.resourceToken,
        "admin's resource-service token": admin.resourceToken,
      }),
    ).toBe(routes.length * 2);
  });
});

describe('a generated second service (orders-service), replayed at with resource-service tokens', () => {
  it("refuses the user's and the admin's resource-service token at every route, 401 invalid_token, changing nothing; tokens asked for orders-service work there and nowhere else", async () => {
    const routes = await bearerRoutes(ORDERS_URL);
    expect(routes.length).toBeGreaterThan(0);
    const userOrders = (await login(user, { resource: ORDERS })).access_token;
    const adminOrders = (await login(admin, { resource: ORDERS })).access_token;
    expect(audiencesOf(userOrders)).toEqual([ORDERS]);

    const answers = await replay(ORDERS_URL, routes, [
      atNotes(ORDERS_URL, "user's resource-service token", user.resourceToken, userOrders),
      atNotes(ORDERS_URL, "admin's resource-service token", admin.resourceToken, adminOrders),
      atNotes(ORDERS_URL, "user's auth-service token", user.accountToken, userOrders),
      atNotes(ORDERS_URL, "admin's auth-service token", admin.accountToken, adminOrders),
    ]);
    expect(answers).toHaveLength(routes.length * 4);
    expect(answers).toEqual(refused(answers));

    expect(
      await expectEveryRouteWorks(ORDERS_URL, routes, {
        "user's orders-service token": userOrders,
        "admin's orders-service token": adminOrders,
      }),
    ).toBe(routes.length * 2);

    // And the other way: a token for orders-service opens neither resource-service nor auth-service.
    const elsewhere = [
      ...(await replay(RESOURCE, await bearerRoutes(RESOURCE), [
        atNotes(RESOURCE, "user's orders-service token", userOrders, user.resourceToken),
      ])),
      ...(await replay(ISSUER, lockingLast([...authRoutes, LOGOUT_WITH_BEARER]), [
        atAuthService("admin's orders-service token", admin, ORDERS),
      ])),
    ];
    expect(elsewhere).toEqual(refused(elsewhere));
  });
});
