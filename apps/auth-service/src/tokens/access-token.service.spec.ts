import type { TestApplication } from '@tessera/platform-testing';
import { createHmac, createPublicKey, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import {
  controlClock,
  createFeatureTestApplication,
} from '../feature-test-application.spec-helper';
import { KeysModule } from '../keys/keys.module';
import { KeysService } from '../keys/keys.service';
import { generateSigningKeyPair } from '../keys/signing-key-pair';
import {
  AccessTokenVerifier,
  Clock,
  CLOCK_TOLERANCE_SECONDS,
  InvalidAccessTokenError,
} from '@tessera/auth-token';
import type { AccessTokenClaims } from '@tessera/auth-token';
import type { InvalidAccessTokenReason } from '@tessera/auth-token';
import { authServiceConfig } from '../config/auth-service.config';
import { AccessTokenService } from './access-token.service';

const ISSUER = 'https://auth.example.com';
const SERVICE_INPUT = {
  subject: 'u1',
  clientId: 'c1',
  scope: 'a',
  roles: [],
  audience: 'resource-service',
};
const TTL = 900;
const DELAY = 600;

function decodeSegment(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index], 'base64url').toString('utf8'));
}

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The verifier every guard uses, over this service's own keys: what a token issued here meets. */
function verifierOf(app: TestApplication['app']): (token: string) => Promise<AccessTokenClaims> {
  const verifier = new AccessTokenVerifier({
    issuer: app.get<{ ISSUER: string }>(authServiceConfig.KEY).ISSUER,
    audiences: ['resource-service', 'notes-service', 'auth-service'],
    keys: app.get(KeysService),
    clock: app.get(Clock),
  });
  return async (token) => (await verifier.verify(token)).claims;
}

describe('AccessTokenService and AccessTokenVerifier on real PostgreSQL', () => {
  let service: TestApplication;
  let tokens: AccessTokenService;
  let keys: KeysService;
  let clock: ReturnType<typeof controlClock>;
  let verify: (token: string) => Promise<AccessTokenClaims>;

  const input = {
    subject: '3f1b6c1e-6f0e-4d7c-9a57-2f6f0a4f2b10',
    clientId: 'tessera-web',
    scope: 'openid notes:read',
    roles: ['user'],
    sessionId: '9d1d8a0c-0b1a-4a4e-8f3e-4a5a2c1d0e9f',
    audience: ['resource-service', 'notes-service'],
  };

  /**
   * A token signed (ES256) by whoever holds `privateKey`, with exactly this header and payload;
   * by hand, because a JWT library will not sign the malformed claims the tests need.
   */
  function forge(header: Record<string, unknown>, payload: object, privateKey: KeyObject): string {
    const signingInput = `${encodeSegment(header)}.${encodeSegment(payload)}`;
    const signature = sign('sha256', Buffer.from(signingInput), {
      key: privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    return `${signingInput}.${signature.toString('base64url')}`;
  }

  async function validParts() {
    const key = await keys.signingKey();
    const { token } = await tokens.issue(input);
    return { key, header: decodeSegment(token, 0), payload: decodeSegment(token, 1) };
  }

  async function expectRefusal(token: string, reason: InvalidAccessTokenReason): Promise<void> {
    const refusal = verify(token);
    await expect(refusal).rejects.toBeInstanceOf(InvalidAccessTokenError);
    await expect(refusal).rejects.toMatchObject({ reason });
  }

  beforeAll(async () => {
    service = await createFeatureTestApplication(
      { imports: [KeysModule] },
      {
        ISSUER,
        ACCESS_TOKEN_TTL: String(TTL),
        SIGNING_KEY_ACTIVATION_DELAY: String(DELAY),
      },
    );
    tokens = service.app.get(AccessTokenService);
    keys = service.app.get(KeysService);
    clock = controlClock(service);
    verify = verifierOf(service.app);
  });
  afterAll(() => service.close());

  describe('issue', () => {
    it('signs an RFC 9068 access token with the active key', async () => {
      const issued = await tokens.issue(input);
      const now = Math.floor(clock.now().getTime() / 1000);
      const published = await keys.jwks();

      expect(decodeSegment(issued.token, 0)).toEqual({
        alg: 'ES256',
        typ: 'at+jwt',
        kid: (await keys.signingKey()).kid,
      });
      expect(published.keys.map((key) => key.kid)).toContain(decodeSegment(issued.token, 0).kid);
      expect(decodeSegment(issued.token, 1)).toEqual({
        iss: ISSUER,
        sub: input.subject,
        aud: ['resource-service', 'notes-service'],
        exp: now + TTL,
        iat: now,
        jti: issued.jti,
        client_id: 'tessera-web',
        scope: 'openid notes:read',
        roles: ['user'],
        sid: input.sessionId,
      });
      expect(issued.expiresIn).toBe(TTL);
      expect(issued.expiresAt).toEqual(new Date((now + TTL) * 1000));
    });

    it('gives every token its own random jti', async () => {
      const issued = await Promise.all([1, 2, 3, 4, 5].map(() => tokens.issue(input)));
      expect(new Set(issued.map((token) => token.jti)).size).toBe(5);
      for (const token of issued) expect(token.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    });

    it('uses the given audience, joins a scope list with spaces, and leaves sid out without a session', async () => {
      const { token } = await tokens.issue({
        subject: 'service:reports',
        clientId: 'reports',
        scope: ['notes:read', 'notes:write'],
        roles: [],
        audience: 'notes-service',
      });
      const payload = decodeSegment(token, 1);
      expect(payload).toMatchObject({ aud: ['notes-service'], scope: 'notes:read notes:write' });
      expect(payload).not.toHaveProperty('sid');
    });
  });

  describe('verify', () => {
    it('accepts a token it issued and returns its claims', async () => {
      const issued = await tokens.issue(input);
      await expect(verify(issued.token)).resolves.toMatchObject({
        iss: ISSUER,
        sub: input.subject,
        jti: issued.jti,
        sid: input.sessionId,
        client_id: 'tessera-web',
      });
    });

    it('accepts typ in any casing and with the application/ prefix', async () => {
      const { key, header, payload } = await validParts();
      for (const typ of ['AT+JWT', 'application/at+jwt', 'Application/At+Jwt']) {
        await expect(
          verify(forge({ ...header, typ }, payload, key.privateKey)),
        ).resolves.toMatchObject({ sub: input.subject });
      }
    });

    it.each(['none', 'None', 'NONE'])('refuses alg %s', async (alg) => {
      const { header, payload } = await validParts();
      const unsigned = `${encodeSegment({ ...header, alg })}.${encodeSegment(payload)}`;
      await expectRefusal(`${unsigned}.`, 'malformed');
      await expectRefusal(`${unsigned}.c2lnbmF0dXJl`, 'algorithm');
    });

    it('refuses an HS256 token signed with the public key as the HMAC secret', async () => {
      const { key, header, payload } = await validParts();
      const publicKey = createPublicKey(key.privateKey);
      const secrets = [
        publicKey.export({ format: 'pem', type: 'spki' }),
        JSON.stringify(publicKey.export({ format: 'jwk' })),
      ];
      for (const secret of secrets) {
        const signingInput = `${encodeSegment({ ...header, alg: 'HS256' })}.${encodeSegment(payload)}`;
        const mac = createHmac('sha256', secret).update(signingInput).digest('base64url');
        await expectRefusal(`${signingInput}.${mac}`, 'algorithm');
      }
    });

    it('refuses a token signed by a key that auth-service does not publish', async () => {
      const { header, payload } = await validParts();
      const stranger = await generateSigningKeyPair('ES256');
      await expectRefusal(
        forge({ ...header, kid: stranger.kid }, payload, stranger.privateKey),
        'unknown_key',
      );
      // A key carried in the token itself is never trusted.
      await expectRefusal(
        forge(
          { ...header, jwk: stranger.publicJwk, jku: 'https://evil.example/jwks' },
          payload,
          stranger.privateKey,
        ),
        'signature',
      );
    });

    it.each([
      ['a missing kid', undefined],
      ['a path as kid', '../../etc/passwd'],
      ['a kid that is not a string', 42],
      ['a huge kid', 'k'.repeat(5000)],
    ])('refuses %s', async (_name, kid) => {
      const { key, header, payload } = await validParts();
      await expectRefusal(forge({ ...header, kid }, payload, key.privateKey), 'unknown_key');
    });

    it.each([['JWT'], ['jwt'], ['at+jwt+x'], [undefined]])('refuses typ %s', async (typ) => {
      const { key, header, payload } = await validParts();
      await expectRefusal(forge({ ...header, typ }, payload, key.privateKey), 'type');
    });

    it('refuses a critical header extension it does not understand', async () => {
      const { key, header, payload } = await validParts();
      await expectRefusal(
        forge({ ...header, crit: ['exp'] }, payload, key.privateKey),
        'unsupported_header',
      );
    });

    it('refuses an issuer that differs by a single byte', async () => {
      const { key, header, payload } = await validParts();
      for (const iss of [`${ISSUER}/`, ISSUER.toUpperCase(), 'https://evil.example.com']) {
        await expectRefusal(forge(header, { ...payload, iss }, key.privateKey), 'issuer');
      }
    });

    it('refuses a token without exp, or whose required claims are missing or mistyped', async () => {
      const { key, header, payload } = await validParts();
      const variants = [
        { ...payload, exp: undefined },
        { ...payload, sub: undefined },
        { ...payload, jti: undefined },
        { ...payload, client_id: undefined },
        { ...payload, iat: String(payload['iat']) },
        { ...payload, roles: 'admin' },
      ];
      for (const variant of variants) {
        await expectRefusal(
          forge(header, JSON.parse(JSON.stringify(variant)), key.privateKey),
          'claims',
        );
      }
    });

    it('refuses a tampered signature, and a payload changed after signing', async () => {
      const { token } = await tokens.issue(input);
      const [head, body, signature] = token.split('.');
      const flipped = `${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
      await expectRefusal(`${head}.${body}.${flipped}`, 'signature');
      const promoted = encodeSegment({ ...decodeSegment(token, 1), roles: ['admin'] });
      await expectRefusal(`${head}.${promoted}.${signature}`, 'signature');
    });

    it('refuses what is not a compact JWS, without crashing', async () => {
      for (const junk of [
        '',
        'abc',
        'a.b',
        'a.b.c.d',
        'e30.e30.e30=',
        '!!.e30.e30',
        `${'a'.repeat(9000)}.b.c`,
      ]) {
        await expectRefusal(junk, 'malformed');
      }
    });

    it('accepts a token up to CLOCK_TOLERANCE_SECONDS past exp and refuses it after', async () => {
      const start = clock.now().getTime();
      const { token } = await tokens.issue(input);
      clock.advance(TTL + CLOCK_TOLERANCE_SECONDS - 1);
      await expect(verify(token)).resolves.toMatchObject({ sub: input.subject });
      clock.advance(1);
      await expectRefusal(token, 'expired');
      clock.advance((start - clock.now().getTime()) / 1000);
    });

    it('refuses a token that is not valid yet', async () => {
      const { key, header, payload } = await validParts();
      const nbf = Number(payload['iat']) + 120;
      await expectRefusal(forge(header, { ...payload, nbf }, key.privateKey), 'not_yet_valid');
    });
  });

  describe('during rotation', () => {
    it('never refuses a still-valid token while keys rotate under load and time passes', async () => {
      const live: { token: string; expiresAt: Date }[] = [];
      const seen = new Set<string>();
      const step = 30;
      // Three full rotations: each key goes pending → active → retired → unpublished.
      const steps = Math.ceil((3 * (DELAY + TTL + 60)) / step);
      for (let index = 0; index < steps; index++) {
        const work: Promise<unknown>[] = [1, 2, 3].map(async () => {
          const issued = await tokens.issue(input);
          await verify(issued.token);
          live.push(issued);
          seen.add(decodeSegment(issued.token, 0).kid as string);
        });
        if (index % 25 === 0) work.push(keys.rotate());
        await Promise.all(work);

        const now = clock.now();
        const valid = live.filter((issued) => issued.expiresAt > now);
        await Promise.all(valid.map((issued) => verify(issued.token)));
        live.splice(0, live.length, ...valid);
        clock.advance(step);
      }
      expect(seen.size).toBeGreaterThanOrEqual(3);
    });
  });
});

describe('AccessTokenService with SIGNING_ALGORITHM=RS256', () => {
  let service: TestApplication;

  beforeAll(async () => {
    service = await createFeatureTestApplication(
      { imports: [KeysModule] },
      { SIGNING_ALGORITHM: 'RS256' },
    );
  });
  afterAll(() => service.close());

  it('publishes an RSA key of at least 2048 bits and signs with RS256', async () => {
    const tokens = service.app.get(AccessTokenService);
    const verify = verifierOf(service.app);
    const { keys } = await service.app.get(KeysService).jwks();
    expect(keys).toEqual([
      {
        kty: 'RSA',
        n: expect.any(String),
        e: 'AQAB',
        kid: expect.any(String),
        use: 'sig',
        alg: 'RS256',
      },
    ]);
    expect(
      Buffer.from(keys[0].kty === 'RSA' ? keys[0].n : '', 'base64url').length * 8,
    ).toBeGreaterThanOrEqual(2048);

    const { token } = await tokens.issue(SERVICE_INPUT);
    expect(decodeSegment(token, 0)).toEqual({ alg: 'RS256', typ: 'at+jwt', kid: keys[0].kid });
    await expect(verify(token)).resolves.toMatchObject({ sub: 'u1' });
  });

  it('refuses a token whose alg differs from the algorithm of the key it names', async () => {
    const tokens = service.app.get(AccessTokenService);
    const verify = verifierOf(service.app);
    const { token } = await tokens.issue(SERVICE_INPUT);
    const [, body, signature] = token.split('.');
    const header = { ...decodeSegment(token, 0), alg: 'ES256' };
    await expect(verify(`${encodeSegment(header)}.${body}.${signature}`)).rejects.toMatchObject({
      reason: 'algorithm',
    });
  });
});
