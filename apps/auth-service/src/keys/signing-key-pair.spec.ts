import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { generateSigningKeyPair, jwkThumbprint, publicMembers } from './signing-key-pair';

describe('generateSigningKeyPair', () => {
  it('makes an EC P-256 key for ES256 whose kid is the RFC 7638 thumbprint', async () => {
    const pair = await generateSigningKeyPair('ES256');
    expect(pair.publicJwk).toEqual({
      kty: 'EC',
      crv: 'P-256',
      x: expect.any(String),
      y: expect.any(String),
    });
    expect(pair.kid).toBe(jwkThumbprint(pair.publicJwk));
    expect(pair.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('makes an RSA key of at least 2048 bits for RS256', async () => {
    const pair = await generateSigningKeyPair('RS256');
    expect(pair.publicJwk).toEqual({ kty: 'RSA', n: expect.any(String), e: 'AQAB' });
    const jwk = pair.publicJwk as { n: string };
    expect(Buffer.from(jwk.n, 'base64url').length * 8).toBeGreaterThanOrEqual(2048);
  });

  it('publishes a public key that verifies what the private key signs', async () => {
    const pair = await generateSigningKeyPair('ES256');
    const publicKey = createPublicKey({ key: { ...pair.publicJwk }, format: 'jwk' });
    const signature = sign('sha256', Buffer.from('payload'), pair.privateKey);
    expect(verify('sha256', Buffer.from('payload'), publicKey, signature)).toBe(true);
  });

  it('gives every key its own kid', async () => {
    const kids = await Promise.all([1, 2, 3].map(() => generateSigningKeyPair('ES256')));
    expect(new Set(kids.map((pair) => pair.kid)).size).toBe(3);
  });
});

describe('publicMembers', () => {
  it('drops every private member of a key exported with its private part', async () => {
    const pair = await generateSigningKeyPair('RS256');
    const full = createPrivateKey(pair.privateKey.export({ format: 'pem', type: 'pkcs8' })).export({
      format: 'jwk',
    });
    expect(full).toHaveProperty('d');
    expect(Object.keys(publicMembers(full)).sort()).toEqual(['e', 'kty', 'n']);
  });

  it('refuses key types the JWKS does not offer', () => {
    expect(() => publicMembers({ kty: 'oct', k: 'c2VjcmV0' })).toThrow(/Only EC P-256 and RSA/);
    expect(() => publicMembers({ kty: 'EC', crv: 'P-384', x: 'a', y: 'b' })).toThrow();
  });
});

describe('jwkThumbprint', () => {
  it('matches the RFC 7638 example, whatever the member order', () => {
    // RFC 7638 §3.1.
    const n =
      '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
    const expected = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
    expect(jwkThumbprint({ kty: 'RSA', n, e: 'AQAB' })).toBe(expected);
    expect(jwkThumbprint({ e: 'AQAB', n, kty: 'RSA' } as never)).toBe(expected);
  });
});
