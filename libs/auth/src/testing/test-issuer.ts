import { generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthModuleOptions } from '../lib/auth-module.options';
import type { AccessTokenAlgorithm } from '../lib/tokens/access-token.format';

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
 * guards without running auth-service. It counts the requests it gets, so a test can prove a
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

  private constructor(options: TestIssuerOptions) {
    this.audience = options.audience ?? 'test-service';
    this.algorithm = options.algorithm ?? 'ES256';
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

  /** AuthModule options that trust this issuer; `overrides` win. */
  moduleOptions(overrides: Partial<AuthModuleOptions> = {}): AuthModuleOptions {
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
    return this.sign(header, this.claims(overrides, options.expiresIn), key);
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
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(request: IncomingMessage, response: ServerResponse): void {
    this.requestCount += 1;
    if (!this.available) {
      response.writeHead(503).end();
    } else if (request.method === 'GET' && request.url === '/.well-known/jwks.json') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(this.jwks()));
    } else {
      response.writeHead(404).end();
    }
  }
}

function withoutUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined));
}
