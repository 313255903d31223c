import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { AccessTokenVerifier, CLOCK_TOLERANCE_SECONDS } from './access-token.verifier';
import type { VerificationKey } from './access-token.verifier';
import { Clock } from './clock';
import type { InvalidAccessTokenReason } from './invalid-access-token.error';

const ISSUER = 'https://auth.example.com';
const NOW = 1_900_000_000;
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** The last character of a base64url segment with one of its unused low bits set. */
function withUnusedBitSet(segment: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(segment.at(-1) ?? '');
  return `${segment.slice(0, -1)}${alphabet[last | 1]}`;
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** An ES256 token signed by hand: a library would refuse to sign the bad claims tested here. */
function token(
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  key: KeyObject = privateKey,
): string {
  const input = `${encode({ alg: 'ES256', typ: 'at+jwt', kid: 'k1', ...header })}.${encode({
    iss: ISSUER,
    sub: 'ada',
    aud: ['orders-service'],
    exp: NOW + 900,
    iat: NOW,
    jti: 'j1',
    client_id: 'web',
    scope: 'orders:read',
    sid: 's1',
    ...claims,
  })}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

class FrozenClock extends Clock {
  seconds = NOW;
  override now(): Date {
    return new Date(this.seconds * 1000);
  }
}

describe('AccessTokenVerifier', () => {
  const clock = new FrozenClock();
  const keys = {
    key: async (kid: string): Promise<VerificationKey | undefined> =>
      kid === 'k1' ? { alg: 'ES256', key: publicKey } : undefined,
    has: (kid: string) => kid === 'k1',
  };
  const verifier = new AccessTokenVerifier({
    issuer: ISSUER,
    audiences: ['orders-service'],
    keys,
    clock,
  });
  afterEach(() => (clock.seconds = NOW));

  const refusal = (reason: InvalidAccessTokenReason) => expect.objectContaining({ reason });

  it('turns a valid token into its principal', async () => {
    const { principal, kid } = await verifier.verify(token());
    expect(kid).toBe('k1');
    expect(principal).toEqual({
      subject: 'ada',
      issuer: ISSUER,
      clientId: 'web',
      audiences: ['orders-service'],
      scopes: ['orders:read'],
      roles: [],
      sessionId: 's1',
      kind: 'user',
      issuedAt: NOW,
      expiresAt: NOW + 900,
      authTime: undefined,
      acr: undefined,
      amr: [],
      emailVerified: false,
    });
    expect(Object.isFrozen(principal)).toBe(true);
  });

  it.each<[string, string, InvalidAccessTokenReason]>([
    ['a token for another service', token({ aud: 'billing-service' }), 'audience'],
    ['a token from another issuer', token({ iss: 'https://evil.example.com' }), 'issuer'],
    ['a token signed by another key', token({}, {}, other.privateKey), 'signature'],
    ['an unknown kid', token({}, { kid: 'k2' }), 'unknown_key'],
    ['alg none', token({}, { alg: 'none' }), 'algorithm'],
    ['a JWT that is not an access token', token({}, { typ: 'JWT' }), 'type'],
    ['a crit header', token({}, { crit: ['exp'] }), 'unsupported_header'],
    ['a token without client_id', token({ client_id: undefined }), 'claims'],
    ['not a JWT', 'not.a.jwt', 'malformed'],
    // 86 characters of signature: 4 unused bits in the last, so another spelling would decode to
    // the same bytes and verify.
    [
      'a signature spelt with unused bits set',
      token().replace(/[^.]+$/, (signature) => withUnusedBitSet(signature)),
      'malformed',
    ],
    ['an ES256 signature of 63 bytes', token().replace(/[^.]+$/, 'A'.repeat(84)), 'signature'],
  ])('refuses %s with a reason of its own', async (_name, jwt, reason) => {
    await expect(verifier.verify(jwt)).rejects.toEqual(refusal(reason));
  });

  it.each([
    ['an RSA key', rsa],
    ['a P-384 key', p384],
  ])('verifies nothing with %s published for ES256', async (_name, pair) => {
    const wrongType = new AccessTokenVerifier({
      issuer: ISSUER,
      audiences: ['orders-service'],
      keys: { key: async () => ({ alg: 'ES256', key: pair.publicKey }), has: () => true },
      clock,
    });
    const signedByIt = token({}, {}, pair.privateKey);
    await expect(wrongType.verify(signedByIt)).rejects.toEqual(refusal('signature'));
  });

  it('verifies nothing with an RSA key under 2048 bits published for RS256 (RFC 7518 §3.3)', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const keysOf = (pair: typeof rsa) =>
      new AccessTokenVerifier({
        issuer: ISSUER,
        audiences: ['orders-service'],
        keys: { key: async () => ({ alg: 'RS256', key: pair.publicKey }), has: () => true },
        clock,
      });
    const rs256 = (pair: typeof rsa) => {
      const input = token({}, { alg: 'RS256' }).split('.').slice(0, 2).join('.');
      return `${input}.${sign('sha256', Buffer.from(input), pair.privateKey).toString('base64url')}`;
    };
    await expect(keysOf(rsa).verify(rs256(rsa))).resolves.toMatchObject({ kid: 'k1' });
    await expect(keysOf(weak).verify(rs256(weak))).rejects.toEqual(refusal('signature'));
  });

  it('reads a header once per key, and still refuses a bad token behind a known header', async () => {
    await verifier.verify(token());
    await expect(verifier.verify(token({}, {}, other.privateKey))).rejects.toEqual(
      refusal('signature'),
    );
    await expect(verifier.verify(token({ aud: 'billing-service' }))).rejects.toEqual(
      refusal('audience'),
    );
  });

  it('accepts a token until CLOCK_TOLERANCE_SECONDS past exp, by the injected clock', async () => {
    const jwt = token();
    clock.seconds = NOW + 900 + CLOCK_TOLERANCE_SECONDS - 1;
    await expect(verifier.verify(jwt)).resolves.toBeDefined();
    expect(verifier.isUnexpired(NOW + 900)).toBe(true);
    clock.seconds += 1;
    await expect(verifier.verify(jwt)).rejects.toEqual(refusal('expired'));
    expect(verifier.isUnexpired(NOW + 900)).toBe(false);
  });

  it('reads a clock given as a plain object with now() alone', async () => {
    let seconds = NOW;
    const plain = { now: () => new Date(seconds * 1000) } as Clock;
    const reading = new AccessTokenVerifier({
      issuer: ISSUER,
      audiences: ['orders-service'],
      keys,
      clock: plain,
    });
    const jwt = token();
    await expect(reading.verify(jwt)).resolves.toBeDefined();
    seconds = NOW + 900 + CLOCK_TOLERANCE_SECONDS;
    await expect(reading.verify(jwt)).rejects.toEqual(refusal('expired'));
    expect(reading.isUnexpired(NOW + 900)).toBe(false);
  });

  it('refuses a token before its nbf, beyond the tolerance', async () => {
    const jwt = token({ nbf: NOW + CLOCK_TOLERANCE_SECONDS + 1 });
    await expect(verifier.verify(jwt)).rejects.toEqual(refusal('not_yet_valid'));
    clock.seconds += 1;
    await expect(verifier.verify(jwt)).resolves.toBeDefined();
  });
});
