import type { TestApplication } from '@tessera/platform-testing';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { KeyEncryption } from './key-encryption';
import {
  controlClock,
  createFeatureTestApplication,
} from '../feature-test-application.spec-helper';
import { KeysModule } from './keys.module';
import { KeysService } from './keys.service';
import type { PublishedJwk } from './keys.service';
import { jwkThumbprint, publicMembers } from './signing-key-pair';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const DELAY = 600;
const TTL = 900;
const LEEWAY = 60;
/** Instances sharing a database share the key that encrypts its signing keys. */
const KEY_ENCRYPTION_KEY = randomBytes(32).toString('base64');

async function fetchJwks(service: TestApplication) {
  const response = await fetch(`${service.url}/.well-known/jwks.json`);
  return { response, body: (await response.json()) as { keys: PublishedJwk[] } };
}

describe('KeysService on real PostgreSQL', () => {
  let service: TestApplication;
  let keys: KeysService;
  let dataSource: DataSource;

  beforeAll(async () => {
    service = await createFeatureTestApplication(
      { imports: [KeysModule] },
      {
        KEY_ENCRYPTION_KEY,
        JWKS_MAX_AGE: '120',
        SIGNING_KEY_ACTIVATION_DELAY: String(DELAY),
        ACCESS_TOKEN_TTL: String(TTL),
      },
    );
    keys = service.app.get(KeysService);
    dataSource = service.app.get(DataSource);
  });
  afterAll(() => service.close());

  describe('the JWKS', () => {
    it('serves the active key at start-up, publicly cacheable for JWKS_MAX_AGE', async () => {
      const { response, body } = await fetchJwks(service);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, max-age=120');
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(body.keys).toEqual([
        {
          kty: 'EC',
          crv: 'P-256',
          x: expect.any(String),
          y: expect.any(String),
          kid: (await keys.signingKey()).kid,
          use: 'sig',
          alg: 'ES256',
        },
      ]);
    });

    it('never publishes a private member, and gives each key its own kid, use and alg', async () => {
      await keys.rotate();
      const { body } = await fetchJwks(service);
      expect(body.keys).toHaveLength(2);
      expect(new Set(body.keys.map((key) => key.kid)).size).toBe(2);
      for (const key of body.keys) {
        for (const member of PRIVATE_MEMBERS) expect(key).not.toHaveProperty(member);
        expect(key).toMatchObject({ use: 'sig', alg: 'ES256', kty: 'EC', crv: 'P-256' });
        expect(key.kid).toBe(jwkThumbprint(publicMembers(key)));
      }
    });
  });

  describe('keys at rest', () => {
    it('refuses to start with a KEY_ENCRYPTION_KEY other than the one its keys were encrypted with, saying so', async () => {
      await expect(
        createFeatureTestApplication(
          { imports: [KeysModule] },
          {
            KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
            DATABASE_URL: service.databaseUrl,
          },
        ),
      ).rejects.toThrow(
        /cannot be decrypted: KEY_ENCRYPTION_KEY is not the key it was encrypted with/,
      );
    });

    it('stores the private key encrypted under KEY_ENCRYPTION_KEY, and it decrypts to the key pair', async () => {
      const rows: { kid: string; private_key: string; public_jwk: Record<string, unknown> }[] =
        await dataSource.query('SELECT kid, private_key, public_jwk FROM signing_keys');
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row.private_key).not.toContain('PRIVATE KEY');
        expect(row.private_key).toMatch(/^v1\./);
        for (const member of PRIVATE_MEMBERS) expect(row.public_jwk).not.toHaveProperty(member);
        const pem = service.app.get(KeyEncryption).decrypt(row.private_key, row.kid);
        expect(pem).toContain('-----BEGIN PRIVATE KEY-----');
        const derived = createPublicKey(createPrivateKey(pem)).export({ format: 'jwk' });
        expect(publicMembers(derived)).toEqual(row.public_jwk);
      }
    });

    it('refuses to store a public JWK that carries a private member', async () => {
      await expect(
        dataSource.query(
          `INSERT INTO signing_keys (kid, algorithm, public_jwk, private_key, activates_at)
           VALUES ('leak', 'ES256', '{"kty":"EC","d":"secret"}', 'v1.a.b.c', now())`,
        ),
      ).rejects.toThrow(/signing_keys_public_only/);
    });
  });

  describe('rotation', () => {
    let fresh: TestApplication;
    let rotating: KeysService;
    let clock: ReturnType<typeof controlClock>;

    beforeEach(async () => {
      fresh = await createFeatureTestApplication(
        { imports: [KeysModule] },
        {
          SIGNING_KEY_ACTIVATION_DELAY: String(DELAY),
          ACCESS_TOKEN_TTL: String(TTL),
        },
      );
      rotating = fresh.app.get(KeysService);
      clock = controlClock(fresh);
    });
    afterEach(() => fresh.close());

    const publishedKids = async () => (await fetchJwks(fresh)).body.keys.map((key) => key.kid);

    it('publishes the next key before it signs, and retires the old one when it activates', async () => {
      const old = (await rotating.signingKey()).kid;
      const next = await rotating.rotate();

      expect(await publishedKids()).toEqual(expect.arrayContaining([old, next.kid]));
      expect(next.activatesAt).toEqual(new Date(clock.now().getTime() + DELAY * 1000));
      expect((await rotating.signingKey()).kid).toBe(old);

      clock.advance(DELAY - 1);
      expect((await rotating.signingKey()).kid).toBe(old);
      clock.advance(1);
      expect((await rotating.signingKey()).kid).toBe(next.kid);
    });

    it('keeps the retired key published for the token lifetime plus 60 s leeway, then drops it', async () => {
      const old = (await rotating.signingKey()).kid;
      const next = await rotating.rotate();

      clock.advance(DELAY + TTL + LEEWAY - 1);
      expect(await publishedKids()).toEqual([next.kid, old]);
      expect(await rotating.key(old)).toMatchObject({ alg: 'ES256' });
      expect(rotating.has(old)).toBe(true);

      clock.advance(1);
      expect(await publishedKids()).toEqual([next.kid]);
      expect(await rotating.key(old)).toBeUndefined();
      expect(rotating.has(old)).toBe(false);
    });

    it('keeps a retired key published while the service tokens it signed live, when they outlive user tokens', async () => {
      const longServiceTokens = await createFeatureTestApplication(
        { imports: [KeysModule] },
        {
          SIGNING_KEY_ACTIVATION_DELAY: String(DELAY),
          ACCESS_TOKEN_TTL: '300',
          SERVICE_TOKEN_TTL: '1800',
        },
      );
      try {
        const keys = longServiceTokens.app.get(KeysService);
        const time = controlClock(longServiceTokens);
        const old = (await keys.signingKey()).kid;
        await keys.rotate();
        time.advance(DELAY + 1800 + LEEWAY - 1);
        expect(await keys.key(old)).toBeDefined();
        time.advance(1);
        expect(await keys.key(old)).toBeUndefined();
      } finally {
        await longServiceTokens.close();
      }
    });

    it('returns the pending key when rotated again, rather than stacking keys', async () => {
      const [first, second] = await Promise.all([rotating.rotate(), rotating.rotate()]);
      const third = await rotating.rotate();
      expect(second.kid).toBe(first.kid);
      expect(third.kid).toBe(first.kid);
      expect(await publishedKids()).toHaveLength(2);
    });

    it('deletes keys that have left the JWKS at the next rotation', async () => {
      await rotating.rotate();
      clock.advance(DELAY + TTL + LEEWAY);
      await rotating.rotate();
      const [{ count }] = await fresh.app
        .get(DataSource)
        .query('SELECT count(*)::int AS count FROM signing_keys');
      expect(count).toBe(2);
    });
  });

  describe('several instances on one database', () => {
    let other: TestApplication;

    beforeAll(async () => {
      other = await createFeatureTestApplication(
        { imports: [KeysModule] },
        {
          DATABASE_URL: service.databaseUrl,
          KEY_ENCRYPTION_KEY,
          SIGNING_KEY_ACTIVATION_DELAY: String(DELAY),
        },
      );
    });
    afterAll(() => other.close());

    it('creates exactly one key when instances start together on an empty table', async () => {
      await dataSource.query('DELETE FROM signing_keys');
      const instances = [keys, other.app.get(KeysService)];
      await Promise.all(
        [1, 2, 3, 4].flatMap(() => instances.map((instance) => instance.ensureActiveKey())),
      );
      const rows: unknown[] = await dataSource.query('SELECT kid FROM signing_keys');
      expect(rows).toHaveLength(1);
      expect((await keys.signingKey()).kid).toBe(
        (await other.app.get(KeysService).signingKey()).kid,
      );
    });

    it('signs with a key another instance rotated in, once it activates', async () => {
      const start = Date.now();
      const clocks = [controlClock(service, start), controlClock(other, start)];
      const next = await other.app.get(KeysService).rotate();
      clocks.forEach((clock) => clock.advance(DELAY));
      expect((await keys.signingKey()).kid).toBe(next.kid);
    });
  });
});
