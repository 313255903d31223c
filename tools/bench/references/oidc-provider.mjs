/**
 * The bench's reference token endpoint: node-oidc-provider 9.13.3 (the OpenID-certified
 * `oidc-provider` package, a devDependency), configured as Tessera's auth-service is for the two
 * grants its `/oauth/token` offers, so that `npm run bench` can put the two side by side
 * (issue 18: Tessera's client credentials ≥ 1.2 × this; refresh reported beside it).
 * docs/performance.md ("The token endpoint") has the figures and what differs.
 *
 * Start (ESM, plain Node, nothing to compile):
 *
 *     PORT=3998 node tools/bench/references/oidc-provider.mjs
 *
 * It prints one line `oidc-provider reference listening on http://127.0.0.1:PORT` when ready, and
 * `GET /health` answers 200 (the bench polls it). Environment:
 *
 * - PORT (default 3998), on 127.0.0.1.
 * - CLIENT_SECRET: the confidential client's secret (default: a random one, printed).
 * - LOG_LEVEL (default `info`): `warn` or above writes no request lines.
 * - DATABASE_URL: optional. Unset, tokens and grants live in memory (oidc-provider's development
 *   adapter, an LRU of 1,000 entries, as issue 18 measured it). Set, they live in PostgreSQL, in
 *   the table `oidc_reference_payloads` of that database (created if missing), as Tessera's
 *   sessions do: the fair setting for the refresh grant, which writes state on both sides.
 *
 * What it mirrors of Tessera's auth-service (apps/auth-service/registry.json):
 *
 * - Client `resource-service`: confidential, `client_secret_basic` or `client_secret_post` (both
 *   accepted for one registered method, as Tessera does), grant `client_credentials`, scopes
 *   `tokens:introspect revocations:read`, audience `auth-service` (its default when no `resource`
 *   is sent). oidc-provider takes only absolute URIs as resource indicators, so the resource
 *   `urn:tessera:auth-service` stands for the audience `auth-service` (the token's `aud`).
 * - Client `tessera-first-party`: public (`none`), grant `refresh_token`, audience
 *   `resource-service` with `notes:read notes:write`; every refresh rotates the refresh token
 *   (spent once; a spent one presented again revokes the grant, as Tessera's reuse detection
 *   ends the session).
 * - Access tokens: RFC 9068 JWTs (`typ: at+jwt`), ES256 with a P-256 key made at start-up,
 *   `iss sub aud exp iat jti client_id scope`; 300 s for client credentials (Tessera's
 *   SERVICE_TOKEN_TTL), 900 s for users (ACCESS_TOKEN_TTL). The resource indicators feature
 *   with `accessTokenFormat: 'jwt'` is what makes them JWTs.
 * - Around every request: the same security headers Tessera's platform sets, an `x-request-id`,
 *   a prom-client counter of issued tokens by kind (Tessera's `tessera_tokens_issued_total`)
 *   and, at LOG_LEVEL `info` (the default, as in Tessera), Tessera's request line: one pino JSON
 *   line per request on stdout with `reqId`, the request (credential headers redacted), the
 *   status and `responseTime`. `Cache-Control: no-store` comes from oidc-provider itself.
 *   Give it the LOG_LEVEL auth-service runs with in the same run.
 *
 * Requests (what the bench sends):
 *
 * - Client credentials, one token per request:
 *   `POST /token`, `content-type: application/x-www-form-urlencoded`,
 *   `authorization: Basic base64("resource-service:" + CLIENT_SECRET)`,
 *   body `grant_type=client_credentials&scope=tokens%3Aintrospect`.
 *   (`client_secret_post`: no authorization header, body
 *   `grant_type=client_credentials&scope=tokens%3Aintrospect&client_id=resource-service&client_secret=…`.)
 * - Refresh, one rotation per request: `POST /token`, form-encoded, body
 *   `grant_type=refresh_token&client_id=tessera-first-party&refresh_token=…`; the answer's
 *   `refresh_token` is the successor (the old one is spent).
 * - Refresh tokens to start from, outside the measured time (a sign-in that oidc-provider would
 *   otherwise do through its interactive authorization endpoint):
 *   `POST /bench/refresh-tokens?count=N` (N ≤ 1,000) → `{"refresh_tokens": [...]}`: N fresh
 *   grants, each for an account of its own and with its own refresh token, made through
 *   oidc-provider's Grant and RefreshToken models. Not an OAuth endpoint; it exists only here.
 *   A refresh token whose answer was lost (a round ending mid-request) is spent: take a new one
 *   from here rather than sending it again, which would revoke its grant.
 */
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import Provider, { errors } from 'oidc-provider';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 3998);
const issuer = `http://127.0.0.1:${port}`;
const secret = process.env.CLIENT_SECRET ?? randomBytes(32).toString('base64url');
if (!process.env.CLIENT_SECRET) process.stdout.write(`CLIENT_SECRET=${secret}\n`);

const SERVICE_TOKEN_TTL = 300;
const ACCESS_TOKEN_TTL = 900;
const REFRESH_TOKEN_TTL = 30 * 24 * 3600;

// Audiences and what each may be asked for, as in apps/auth-service/registry.json.
const audiences = {
  'auth-service': 'tokens:introspect revocations:read',
  'resource-service': 'notes:read notes:write',
};
// oidc-provider takes only absolute URIs as resource indicators (RFC 8707 §2), where Tessera takes
// its audience names: the resource `urn:tessera:NAME` stands for the audience NAME.
const resourceOf = (audience) => `urn:tessera:${audience}`;
const audienceOf = (resource) => resource.slice('urn:tessera:'.length);
const clientAudiences = {
  'resource-service': { allowed: ['auth-service'], default: 'auth-service' },
  'tessera-first-party': { allowed: ['resource-service'], default: 'resource-service' },
};

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = {
  ...privateKey.export({ format: 'jwk' }),
  kid: randomUUID(),
  alg: 'ES256',
  use: 'sig',
};

const configuration = {
  ...(process.env.DATABASE_URL && { adapter: await postgresAdapter(process.env.DATABASE_URL) }),
  jwks: { keys: [jwk] },
  clients: [
    {
      client_id: 'resource-service',
      client_secret: secret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: audiences['auth-service'],
    },
    {
      client_id: 'tessera-first-party',
      token_endpoint_auth_method: 'none',
      grant_types: ['refresh_token', 'authorization_code'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
      scope: audiences['resource-service'],
    },
  ],
  // offline_access is what enables the refresh_token grant in oidc-provider.
  scopes: ['offline_access', ...Object.values(audiences).flatMap((scopes) => scopes.split(' '))],
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (ctx, client, oneOf) =>
        oneOf ?? resourceOf(clientAudiences[client.clientId]?.default),
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource, client) => {
        // A resource the client may not ask for is invalid_target, as in Tessera.
        const audience = audienceOf(resource);
        if (!clientAudiences[client.clientId]?.allowed.includes(audience)) {
          throw new errors.InvalidTarget();
        }
        return {
          scope: audiences[audience],
          audience,
          accessTokenFormat: 'jwt',
          accessTokenTTL:
            client.clientId === 'resource-service' ? SERVICE_TOKEN_TTL : ACCESS_TOKEN_TTL,
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  ttl: {
    ClientCredentials: SERVICE_TOKEN_TTL,
    AccessToken: ACCESS_TOKEN_TTL,
    RefreshToken: REFRESH_TOKEN_TTL,
    Grant: REFRESH_TOKEN_TTL,
  },
  // Every refresh spends its token and issues a successor, as Tessera's rotation does.
  rotateRefreshToken: true,
  findAccount: (ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  cookies: { keys: [randomBytes(32).toString('base64url')] },
};

const provider = new Provider(issuer, configuration);
provider.proxy = false;

// What Tessera does around every response (libs/platform): the same security headers and a
// request id; and the issued-tokens counter (apps/auth-service/src/metrics/issuance-metrics.ts).
// Tessera's own list, read from libs/platform through Node's type stripping (Node ≥ 22.18): a
// header added there is sent here too. Node warns once that package.json has no "type".
const { SECURITY_HEADERS } = await import(
  new URL('../../../libs/platform/src/lib/http/http-security.ts', import.meta.url).href
);
const registry = new Registry();
const issued = new Counter({
  name: 'tokens_issued_total',
  help: 'Tokens issued, by kind',
  labelNames: ['kind'],
  registers: [registry],
});
provider.on('client_credentials.issued', () => issued.inc({ kind: 'service' }));
provider.on('access_token.issued', () => issued.inc({ kind: 'access' }));
provider.on('refresh_token.saved', () => issued.inc({ kind: 'refresh' }));

// Tessera's request line (libs/platform's request logging): same library, same fields, same redaction.
const logger = pino(
  {
    level: process.env.LOG_LEVEL ?? 'info',
    formatters: { level: (label) => ({ level: label }) },
    redact: [
      'req.headers.authorization',
      'req.headers["proxy-authorization"]',
      'req.headers.cookie',
    ],
  },
  pino.destination({ dest: 1, sync: true }),
);
const securityHeaders = new Map(Object.entries(SECURITY_HEADERS));

const handle = provider.callback();
const server = createServer((request, response) => {
  const started = performance.now();
  const reqId = request.headers['x-request-id'] ?? randomUUID();
  response.setHeaders(securityHeaders);
  response.setHeader('x-request-id', reqId);
  if (logger.isLevelEnabled('info')) {
    response.once('finish', () =>
      logger.info(
        {
          reqId,
          req: {
            method: request.method,
            url: request.url,
            headers: request.headers,
            remoteAddress: request.socket.remoteAddress,
          },
          res: { statusCode: response.statusCode },
          responseTime: Math.round((performance.now() - started) * 10) / 10,
        },
        'request completed',
      ),
    );
  }
  if (request.url === '/health') {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  } else if (request.method === 'POST' && request.url?.startsWith('/bench/refresh-tokens')) {
    const count = Number(new URL(request.url, issuer).searchParams.get('count') ?? 1);
    refreshTokens(Math.min(Math.max(Math.trunc(count) || 1, 1), 1000)).then(
      (tokens) =>
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ refresh_tokens: tokens })),
      (error) => response.writeHead(500).end(String(error)),
    );
  } else {
    handle(request, response);
  }
});

/** What a sign-in through the authorization endpoint would leave behind: a grant and its refresh token. */
async function refreshTokens(count) {
  const client = await provider.Client.find('tessera-first-party');
  const tokens = [];
  for (let index = 0; index < count; index += 1) {
    const accountId = randomUUID();
    const grant = new provider.Grant({ accountId, clientId: client.clientId });
    grant.addResourceScope(resourceOf('resource-service'), audiences['resource-service']);
    const grantId = await grant.save();
    const token = new provider.RefreshToken({
      client,
      accountId,
      grantId,
      gty: 'authorization_code',
      scope: audiences['resource-service'],
      resource: resourceOf('resource-service'),
      authTime: Math.floor(Date.now() / 1000),
      iiat: Math.floor(Date.now() / 1000),
    });
    tokens.push(await token.save());
  }
  return tokens;
}

/** The adapter of oidc-provider's documentation examples, on PostgreSQL through `pg`. */
async function postgresAdapter(url) {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  await pool.query(`CREATE TABLE IF NOT EXISTS oidc_reference_payloads (
    id text NOT NULL, model text NOT NULL, payload jsonb NOT NULL, grant_id text,
    user_code text, uid text, expires_at timestamptz, consumed_at timestamptz,
    PRIMARY KEY (model, id))`);
  await pool.query(
    'CREATE INDEX IF NOT EXISTS oidc_reference_payloads_grant ON oidc_reference_payloads (grant_id)',
  );
  const row = async (model, where, value) => {
    const { rows } = await pool.query(
      `SELECT payload, consumed_at FROM oidc_reference_payloads
       WHERE model = $1 AND ${where} = $2 AND (expires_at IS NULL OR expires_at > now())`,
      [model, value],
    );
    if (rows.length === 0) return undefined;
    const consumed = rows[0].consumed_at;
    return consumed
      ? { ...rows[0].payload, consumed: Math.floor(consumed.getTime() / 1000) }
      : rows[0].payload;
  };
  return class PostgresAdapter {
    constructor(model) {
      this.model = model;
    }
    async upsert(id, payload, expiresIn) {
      await pool.query(
        `INSERT INTO oidc_reference_payloads (id, model, payload, grant_id, user_code, uid, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
         ON CONFLICT (model, id) DO UPDATE SET payload = $3, grant_id = $4, user_code = $5,
           uid = $6, expires_at = now() + make_interval(secs => $7)`,
        [
          id,
          this.model,
          payload,
          payload.grantId,
          payload.userCode,
          payload.uid,
          expiresIn ?? null,
        ],
      );
    }
    find(id) {
      return row(this.model, 'id', id);
    }
    findByUserCode(userCode) {
      return row(this.model, 'user_code', userCode);
    }
    findByUid(uid) {
      return row(this.model, 'uid', uid);
    }
    async consume(id) {
      await pool.query(
        'UPDATE oidc_reference_payloads SET consumed_at = now() WHERE model = $1 AND id = $2',
        [this.model, id],
      );
    }
    async destroy(id) {
      await pool.query('DELETE FROM oidc_reference_payloads WHERE model = $1 AND id = $2', [
        this.model,
        id,
      ]);
    }
    async revokeByGrantId(grantId) {
      await pool.query('DELETE FROM oidc_reference_payloads WHERE grant_id = $1', [grantId]);
    }
  };
}

server.keepAliveTimeout = 72_000;
server.listen(port, '127.0.0.1', () =>
  process.stdout.write(`oidc-provider reference listening on ${issuer}\n`),
);
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => server.close(() => process.exit(0)));
