import { generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccessTokenAlgorithm } from '@tessera/auth-token';
import type { RevocationEvent } from '@tessera/auth-client';

/** A signing key of the test issuer. */
export interface TestSigningKey {
  kid: string;
  alg: AccessTokenAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Whether the issuer's JWKS lists it. */
  published: boolean;
}

export interface TestIssuerOptions {
  /** The `aud` of minted tokens and of moduleOptions(). Default `test-service`. */
  audience?: string;
  algorithm?: AccessTokenAlgorithm;
  /**
   * Confidential clients (id → secret) for the issuer's `POST /oauth/token`
   * (client_credentials, client_secret_basic). Default: none.
   */
  clients?: Record<string, string>;
}

export interface MintOptions {
  /** Header members to add or override (`undefined` removes one). */
  header?: Record<string, unknown>;
  /** Seconds from now until `exp`. Default 300. */
  expiresIn?: number;
  key?: TestSigningKey;
}

/**
 * An in-process token issuer for tests: its own keys, a JWKS served over real HTTP on a free
 * loopback port, and access tokens minted with any claims and headers, so a service tests its
 * guards without running auth-service. For service-to-service calls it also answers
 * `POST /oauth/token` (client credentials for `options.clients`) and `POST /oauth/introspect`
 * (active for what it minted, until `revoke()`). It counts the requests it gets, so a test can prove a
 * verifier fetched (or never fetched) its keys.
 *
 * @example
 * ```ts
 * const issuer = await TestIssuer.start({ audience: 'orders-service' });
 * const app = await NestFactory.create(AppModule.with(AuthModule.forRoot(issuer.moduleOptions())));
 * const token = issuer.accessToken({ scope: 'orders:read' });
 * await fetch(`${url}/orders`, { headers: { authorization: `Bearer ${token}` } }); // 200
 * await issuer.stop();
 * ```
 */
export class TestIssuer {
  readonly keys: TestSigningKey[] = [];
  /** While false the JWKS answers 503, as an issuer that is starting or failing would. */
  available = true;
  private requestCount = 0;

  private readonly server: Server = createServer((request, response) =>
    this.answer(request, response),
  );
  private url = '';
  readonly audience: string;
  private readonly algorithm: AccessTokenAlgorithm;
  private readonly clients: Record<string, string>;
  /** Every token this issuer minted, with its claims: what its introspection knows. */
  private readonly minted = new Map<string, Record<string, unknown>>();
  private readonly revoked = new Set<string>();
  /** Reference tokens (phantom-token mode), each with the JWT it stands for. */
  private readonly references = new Map<string, string>();
  /** The revocation log it serves at GET /revocations, and the streams following it. */
  private readonly revocationLog: RevocationEvent[] = [];
  private readonly followers = new Set<ServerResponse>();

  private constructor(options: TestIssuerOptions) {
    this.audience = options.audience ?? 'test-service';
    this.algorithm = options.algorithm ?? 'ES256';
    this.clients = options.clients ?? {};
    this.addKey();
  }

  static async start(options: TestIssuerOptions = {}): Promise<TestIssuer> {
    const issuer = new TestIssuer(options);
    await new Promise<void>((resolve) => issuer.server.listen(0, '127.0.0.1', resolve));
    issuer.url = `http://127.0.0.1:${(issuer.server.address() as AddressInfo).port}`;
    return issuer;
  }

  /** The `iss` of minted tokens: this issuer's base URL. */
  get issuer(): string {
    return this.url;
  }

  get jwksUri(): string {
    return `${this.issuer}/.well-known/jwks.json`;
  }

  /** HTTP requests received so far (JWKS fetches, mostly). */
  get requests(): number {
    return this.requestCount;
  }

  /** The key that signs by default: the newest one. */
  get currentKey(): TestSigningKey {
    return this.keys[this.keys.length - 1];
  }

  /**
   * AuthModule options that trust this issuer; `overrides` (any other AuthModule option) win.
   * Typed by shape, so the test kit needs nothing from the library it tests.
   */
  moduleOptions<T extends object>(
    overrides: T = {} as T,
  ): { issuer: string; audience: string } & T {
    return { issuer: this.issuer, audience: this.audience, ...overrides };
  }

  /** A new key that signs from now on; `published: false` keeps it out of the JWKS. */
  addKey(options: { published?: boolean; algorithm?: AccessTokenAlgorithm } = {}): TestSigningKey {
    const alg = options.algorithm ?? this.algorithm;
    const { privateKey, publicKey } =
      alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = {
      kid: randomBytes(16).toString('base64url'),
      alg,
      privateKey,
      publicKey,
      published: options.published ?? true,
    };
    this.keys.push(key);
    return key;
  }

  /** The JWK Set this issuer serves. */
  jwks(): { keys: Record<string, unknown>[] } {
    return {
      keys: this.keys
        .filter((key) => key.published)
        .map((key) => ({
          ...key.publicKey.export({ format: 'jwk' }),
          kid: key.kid,
          use: 'sig',
          alg: key.alg,
        })),
    };
  }

  /**
   * The claims of a valid access token for this issuer and audience (RFC 9068), a user's by
   * default; `overrides` change or add claims (`undefined` removes one).
   */
  claims(overrides: Record<string, unknown> = {}, expiresIn = 300): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    return withoutUndefined({
      iss: this.issuer,
      sub: randomUUID(),
      aud: [this.audience],
      exp: now + expiresIn,
      iat: now,
      jti: randomBytes(16).toString('base64url'),
      client_id: 'test-client',
      scope: '',
      roles: [],
      sid: randomUUID(),
      ...overrides,
    });
  }

  /** A signed access token: `claims(overrides)` under the header `{ alg, typ: 'at+jwt', kid }`. */
  accessToken(overrides: Record<string, unknown> = {}, options: MintOptions = {}): string {
    const key = options.key ?? this.currentKey;
    const header = withoutUndefined({
      alg: key.alg,
      typ: 'at+jwt',
      kid: key.kid,
      ...options.header,
    });
    const claims = this.claims(overrides, options.expiresIn);
    const token = this.sign(header, claims, key);
    this.minted.set(token, claims);
    return token;
  }

  /**
   * An opaque reference token standing for `accessToken(overrides, options)`, as auth-service
   * hands out with ACCESS_TOKEN_FORMAT=reference: `POST /oauth/introspect` with
   * `Accept: application/jwt` answers that JWT (phantom tokens, docs/adr/0012-gateway-at-the-edge.md).
   */
  referenceToken(overrides: Record<string, unknown> = {}, options: MintOptions = {}): string {
    const reference = randomBytes(32).toString('base64url');
    this.references.set(reference, this.accessToken(overrides, options));
    return reference;
  }

  /**
   * From now on the issuer's `POST /oauth/introspect` answers `{ active: false }` for this
   * token, as auth-service does once its session is revoked. Local verification is unaffected.
   */
  revoke(token: string): void {
    this.revoked.add(token);
  }

  /**
   * Announces on GET /revocations that sessions ended (`sid`s), or with `{ user }` that every
   * token of that `sub` issued before now is revoked, as auth-service's revocation log does.
   * Entries stay in force for `ttl` seconds (default 900).
   */
  announceRevocation(
    revocation: { sids: string[]; sub?: string } | { user: string },
    ttl = 900,
  ): void {
    const now = Math.floor(Date.now() / 1000);
    const events: RevocationEvent[] =
      'user' in revocation
        ? [{ id: '', kind: 'user', sub: revocation.user, revoked_at: now, exp_by: now + ttl }]
        : revocation.sids.map((sid) => ({
            id: '',
            kind: 'session',
            sub: revocation.sub ?? 'someone',
            sid,
            revoked_at: now,
            exp_by: now + ttl,
          }));
    for (const event of events) {
      event.id = String(this.revocationLog.length + 1);
      this.revocationLog.push(event);
    }
    const text = events.map(revocationText).join('');
    for (const follower of this.followers) follower.write(text);
  }

  /** Drops every GET /revocations connection, as a network failure or a restart would. */
  dropRevocationStreams(): void {
    for (const follower of this.followers) follower.destroy();
    this.followers.clear();
  }

  /**
   * Starts an empty revocation log and drops the streams, as an auth-service whose database was
   * replaced (restored from a backup, or new) would: followers' positions are then not its own.
   */
  replaceRevocationLog(): void {
    this.revocationLog.length = 0;
    this.dropRevocationStreams();
  }

  /**
   * Signs exactly this header and payload with `key` (ES256 or RS256 by the key, whatever the
   * header says): the tool for forging what a JWT library would refuse to produce. A string
   * payload is used byte for byte (duplicate members, odd JSON).
   */
  sign(header: Record<string, unknown>, payload: object | string, key = this.currentKey): string {
    const encode = (value: object | string) =>
      Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
    const signingInput = `${encode(header)}.${encode(payload)}`;
    const signature = sign('sha256', Buffer.from(signingInput), {
      key: key.privateKey,
      ...(key.alg === 'ES256' ? { dsaEncoding: 'ieee-p1363' as const } : {}),
    });
    return `${signingInput}.${signature.toString('base64url')}`;
  }

  async stop(): Promise<void> {
    this.dropRevocationStreams();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(request: IncomingMessage, response: ServerResponse): void {
    this.requestCount += 1;
    const send = (status: number, body?: unknown) => {
      response.writeHead(
        status,
        body === undefined
          ? {}
          : { 'content-type': 'application/json', 'cache-control': 'no-store' },
      );
      response.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (!this.available) return send(503);
    if (request.method === 'GET' && request.url === '/.well-known/jwks.json')
      return send(200, this.jwks());
    if (request.method === 'GET' && request.url === '/revocations') {
      return this.follow(request, response);
    }
    if (
      request.method !== 'POST' ||
      (request.url !== '/oauth/token' && request.url !== '/oauth/introspect')
    ) {
      return send(404);
    }
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const form = new URLSearchParams(body);
      if (request.url === '/oauth/token') {
        const client = this.clientOf(request.headers.authorization);
        if (!client) return send(401, { error: 'invalid_client' });
        if (form.get('grant_type') !== 'client_credentials')
          return send(400, { error: 'unsupported_grant_type' });
        const token = this.accessToken(
          {
            sub: client,
            client_id: client,
            sid: undefined,
            scope: form.get('scope') ?? '',
            aud: [form.get('resource') ?? form.get('audience') ?? this.audience],
          },
          { expiresIn: 300 },
        );
        return send(200, {
          access_token: token,
          token_type: 'Bearer',
          expires_in: 300,
          scope: form.get('scope') ?? '',
        });
      }
      // Introspection: for a caller holding a service token this issuer minted (RFC 7662 §2.1).
      const caller = this.minted.get(request.headers.authorization?.replace(/^Bearer /, '') ?? '');
      if (!caller || caller['sub'] !== caller['client_id'])
        return send(401, { error: 'invalid_token' });
      const token = form.get('token') ?? '';
      if (request.headers.accept === 'application/jwt') {
        const jwt = this.references.get(token);
        if (!jwt || this.revoked.has(token)) return send(200, { active: false });
        response.writeHead(200, { 'content-type': 'application/jwt', 'cache-control': 'no-store' });
        return response.end(jwt);
      }
      const claims = this.minted.get(token);
      const live = claims && !this.revoked.has(token) && Number(claims['exp']) * 1000 > Date.now();
      return send(
        200,
        live ? { active: true, token_type: 'Bearer', ...claims } : { active: false },
      );
    });
  }

  /** GET /revocations: the backlog after Last-Event-ID, `ready`, then live events. */
  private follow(request: IncomingMessage, response: ServerResponse): void {
    const caller = this.minted.get(request.headers.authorization?.replace(/^Bearer /, '') ?? '');
    if (!caller || caller['sub'] !== caller['client_id']) {
      response.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
      return;
    }
    // Positions are 1, 2, …; one this log does not hold gets a reset and the full list, as
    // auth-service's does.
    const given = request.headers['last-event-id'];
    const after = given === undefined ? 0 : Number(given);
    const reset = !Number.isSafeInteger(after) || after < 0 || after > this.revocationLog.length;
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    response.write(
      (reset ? 'event: reset\ndata: {}\n\n' : '') +
        this.revocationLog
          .slice(reset ? 0 : after)
          .map(revocationText)
          .join('') +
        `id: ${this.revocationLog.length}\nevent: ready\ndata: {}\n\n`,
    );
    this.followers.add(response);
    response.on('close', () => this.followers.delete(response));
  }

  /** The client of a `client_secret_basic` header, if its secret is right. */
  private clientOf(authorization: string | undefined): string | undefined {
    const decoded = Buffer.from(authorization?.replace(/^Basic /, '') ?? '', 'base64').toString();
    const [id = '', secret = ''] = decoded
      .split(':')
      .map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
    return this.clients[id] !== undefined && this.clients[id] === secret ? id : undefined;
  }
}

function revocationText(event: RevocationEvent): string {
  return `id: ${event.id}\nevent: revocation\ndata: ${JSON.stringify(event)}\n\n`;
}

function withoutUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined));
}
