import { Metrics } from '@tessera/platform';
import { createTestApplication } from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import { createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { AppModule } from '../app.module';
import { authServiceConfig } from '../config/auth-service.config';
import { controlClock } from '../feature-test-application.spec-helper';
import { KeysService } from './keys.service';

/** Both runs of the service decrypt the same signing keys. */
const KEY_ENCRYPTION_KEY = randomBytes(32).toString('base64');
const SERVICE_SECRET = randomBytes(32).toString('base64url');
/** A token signed before the switch is still unexpired once the next key activates. */
const ENVIRONMENT = {
  KEY_ENCRYPTION_KEY,
  CLIENT_SECRETS: `resource-service=${SERVICE_SECRET}`,
  ACCESS_TOKEN_TTL: '900',
  SIGNING_KEY_ACTIVATION_DELAY: '600',
};
/** resource-service's client credentials, for introspection. */
const RESOURCE_SERVICE = `resource-service:${SERVICE_SECRET}`;
const ACCOUNT = { email: 'switch@example.com', password: 'a long passphrase to switch' };

const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decode = (token: string, part: 0 | 1): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[part] ?? '', 'base64url').toString());

function http(service: TestApplication) {
  return async (
    path: string,
    init: { token?: string; json?: unknown; form?: Record<string, string>; client?: string } = {},
  ) => {
    const headers: Record<string, string> = {};
    let body: string | undefined;
    if (init.token) headers['authorization'] = `Bearer ${init.token}`;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      if (init.client)
        headers['authorization'] = `Basic ${Buffer.from(init.client).toString('base64')}`;
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(`${service.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers,
      body,
    });
    const text = await response.text();
    return {
      status: response.status,
      body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
    };
  };
}

/** A login's access token: for auth-service's own API with `resource`, else the default audiences. */
async function accessToken(service: TestApplication, resource?: string): Promise<string> {
  const reply = await http(service)('/auth/login', {
    json: { ...ACCOUNT, scope: 'openid', ...(resource && { resource }) },
  });
  expect(reply.status).toBe(200);
  return reply.body['access_token'] as string;
}

/** `tessera_guard_refusals_total` by reason, as the service exposes it. */
async function refusals(service: TestApplication): Promise<Record<string, number>> {
  const exposition = await service.app.get(Metrics).render();
  return Object.fromEntries(
    [...exposition.matchAll(/^tessera_guard_refusals_total\{reason="(\w+)"\} (\d+)$/gm)].map(
      ([, reason, count]) => [reason, Number(count)],
    ),
  );
}

/** GET /auth/sessions with `token`: the status, and the guard's refusal reasons it counted. */
async function atOwnApi(service: TestApplication, token: string) {
  const before = await refusals(service);
  const { status } = await http(service)('/auth/sessions', { token });
  const after = await refusals(service);
  return {
    status,
    refused: Object.keys(after).filter((reason) => after[reason] !== before[reason]),
  };
}

/**
 * A switch of SIGNING_ALGORITHM takes effect at the next key (KeysService makes each new key with
 * the configured algorithm, and a restart keeps the key that signs). The earlier key stays
 * published, and auth-service's own guard and introspection/revocation must still verify the
 * tokens it signed: they accept whatever algorithm a published key has, and nothing else for it.
 */
describe('auth-service after SIGNING_ALGORITHM switches from ES256 to RS256', () => {
  let service: TestApplication;
  let call: ReturnType<typeof http>;
  /** Signed while the service ran with ES256: for auth-service, and for resource-service. */
  let ownApi: string;
  let forResourceService: string;
  let es256Kid: string;

  beforeAll(async () => {
    const before = await createTestApplication(AppModule, authServiceConfig, {
      ...ENVIRONMENT,
      SIGNING_ALGORITHM: 'ES256',
    });
    try {
      expect((await http(before)('/auth/register', { json: ACCOUNT })).status).toBe(201);
      ownApi = await accessToken(before, 'auth-service');
      forResourceService = await accessToken(before);
    } finally {
      await before.close();
    }
    es256Kid = decode(ownApi, 0)['kid'] as string;

    // The restart with the other algorithm, on the same database; then the next key activates.
    service = await createTestApplication(AppModule, authServiceConfig, {
      ...ENVIRONMENT,
      SIGNING_ALGORITHM: 'RS256',
      DATABASE_URL: before.databaseUrl,
    });
    call = http(service);
    const clock = controlClock(service);
    const next = await service.app.get(KeysService).rotate();
    clock.advance((next.activatesAt.getTime() - clock.now().getTime()) / 1000);
  });
  afterAll(() => service?.close());

  it('signs new tokens with RS256 and publishes both keys, each with its own alg', async () => {
    expect(decode(ownApi, 0)).toMatchObject({ alg: 'ES256', kid: es256Kid });
    const fresh = await accessToken(service, 'auth-service');
    const header = decode(fresh, 0);
    expect(header).toMatchObject({ alg: 'RS256' });
    expect(header['kid']).not.toBe(es256Kid);
    const jwks = await call('/.well-known/jwks.json');
    expect(jwks.body['keys']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kid: es256Kid, alg: 'ES256', kty: 'EC' }),
        expect.objectContaining({ kid: header['kid'], alg: 'RS256', kty: 'RSA' }),
      ]),
    );
    expect((await call('/auth/sessions', { token: fresh })).status).toBe(200);
  });

  it("keeps a token signed with ES256 valid at auth-service's own API", async () => {
    expect(await atOwnApi(service, ownApi)).toEqual({ status: 200, refused: [] });
    const userinfo = await call('/userinfo', { token: ownApi });
    expect(userinfo).toEqual({ status: 200, body: { sub: decode(ownApi, 1)['sub'] } });
  });

  it('introspects a token signed with ES256 as active', async () => {
    const reply = await call('/oauth/introspect', {
      form: { token: forResourceService },
      client: RESOURCE_SERVICE,
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ active: true, jti: decode(forResourceService, 1)['jti'] });
  });

  describe('each key pins its own algorithm', () => {
    const forge = (
      header: Record<string, unknown>,
      claimsOf: string,
      signer: (input: string) => string,
    ) => {
      const input = `${segment({ typ: 'at+jwt', ...header })}.${claimsOf.split('.')[1]}`;
      return `${input}.${signer(input)}`;
    };
    const withKey =
      (key: KeyObject, options: { dsaEncoding?: 'ieee-p1363' } = {}) =>
      (input: string) =>
        sign('sha256', Buffer.from(input), { key, ...options }).toString('base64url');

    /** Tokens that name a key with an algorithm other than the key's own, each with a signature. */
    async function forgeries(claimsOf: string): Promise<[string, string][]> {
      const keys = service.app.get(KeysService);
      const { privateKey: rs256, kid: rs256Kid } = await keys.signingKey();
      const es256 = await keys.key(es256Kid);
      if (!es256) throw new Error('the ES256 key is no longer published');
      const attackerEc = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      return [
        [
          "RS256 on the ES256 key's kid, signed by auth-service's own RS256 key",
          forge({ alg: 'RS256', kid: es256Kid }, claimsOf, withKey(rs256)),
        ],
        [
          "HS256 on the ES256 key's kid, keyed with that public key",
          forge({ alg: 'HS256', kid: es256Kid }, claimsOf, (input) =>
            createHmac('sha256', es256.key.export({ format: 'pem', type: 'spki' }))
              .update(input)
              .digest('base64url'),
          ),
        ],
        // With a signature: an empty one is refused as malformed before the header is read.
        [
          "none on the ES256 key's kid, with a signature",
          forge({ alg: 'none', kid: es256Kid }, claimsOf, withKey(rs256)),
        ],
        [
          "ES256 on the RS256 key's kid",
          forge(
            { alg: 'ES256', kid: rs256Kid },
            claimsOf,
            withKey(attackerEc, { dsaEncoding: 'ieee-p1363' }),
          ),
        ],
      ];
    }

    it('refuses them at the guard with 401, counted as reason "algorithm"', async () => {
      for (const [name, token] of await forgeries(ownApi)) {
        expect({ name, ...(await atOwnApi(service, token)) }).toEqual({
          name,
          status: 401,
          refused: ['algorithm'],
        });
      }
    });

    it('introspects them as inactive', async () => {
      for (const [name, token] of await forgeries(forResourceService)) {
        const reply = await call('/oauth/introspect', {
          form: { token },
          client: RESOURCE_SERVICE,
        });
        expect({ name, reply }).toEqual({ name, reply: { status: 200, body: { active: false } } });
      }
    });
  });

  it('revokes by a token signed with ES256: its session ends', async () => {
    expect(await atOwnApi(service, ownApi)).toEqual({ status: 200, refused: [] });
    const reply = await call('/oauth/revoke', {
      form: { token: ownApi, client_id: 'tessera-first-party' },
    });
    expect(reply.status).toBe(200);
    expect(await atOwnApi(service, ownApi)).toEqual({ status: 401, refused: ['revoked'] });
  });
});
