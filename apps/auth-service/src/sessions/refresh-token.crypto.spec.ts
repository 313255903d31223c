import { createHash, randomBytes } from 'node:crypto';
import { RefreshTokenCrypto } from './refresh-token.crypto';

describe('RefreshTokenCrypto', () => {
  const crypto = new RefreshTokenCrypto(randomBytes(32));

  it('generates distinct 256-bit tokens as 43 base64url characters', () => {
    const tokens = Array.from({ length: 100 }, () => crypto.generate());
    expect(new Set(tokens).size).toBe(100);
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    }
  });

  it('derives the same well-formed successor for the same token, and another for any other token', () => {
    const token = crypto.generate();
    const successor = crypto.successorOf(token);
    expect(successor).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(crypto.successorOf(token)).toBe(successor);
    expect(successor).not.toBe(token);
    expect(crypto.successorOf(crypto.generate())).not.toBe(successor);
  });

  it('derives successors nobody can compute without KEY_ENCRYPTION_KEY', () => {
    const token = crypto.generate();
    expect(new RefreshTokenCrypto(randomBytes(32)).successorOf(token)).not.toBe(
      crypto.successorOf(token),
    );
  });

  it('hashes the text of the token, so two spellings of the same bytes are two different tokens', () => {
    const token = Buffer.alloc(32).toString('base64url');
    const sameBytes = token.slice(0, 42) + 'B';
    expect(Buffer.from(sameBytes, 'base64url')).toEqual(Buffer.from(token, 'base64url'));
    expect(crypto.hash(token)).toEqual(createHash('sha256').update(token).digest());
    expect(crypto.hash(sameBytes)).not.toEqual(crypto.hash(token));
  });

  it.each([
    ['an empty string', ''],
    ['42 characters', 'A'.repeat(42)],
    ['44 characters', 'A'.repeat(44)],
    ['padding', `${'A'.repeat(42)}=`],
    ['standard base64 characters', `${'A'.repeat(42)}+`],
    ['a non-string', 42],
  ])('calls %s malformed', (_name, value) => {
    expect(crypto.isWellFormed(value)).toBe(false);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new RefreshTokenCrypto(randomBytes(16))).toThrow('32 bytes');
  });
});
