import { randomBytes } from 'node:crypto';
import { KeyEncryption } from './key-encryption';

describe('KeyEncryption', () => {
  const encryption = new KeyEncryption(randomBytes(32));
  const secret =
    '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----';

  it('round-trips a private key', () => {
    expect(encryption.decrypt(encryption.encrypt(secret, 'kid-1'), 'kid-1')).toBe(secret);
  });

  it('never stores the plaintext, and encrypts the same key differently each time', () => {
    const first = encryption.encrypt(secret, 'kid-1');
    const second = encryption.encrypt(secret, 'kid-1');
    expect(first).not.toContain('PRIVATE KEY');
    expect(first).not.toBe(second);
    expect(first).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('refuses a ciphertext moved to another kid', () => {
    expect(() => encryption.decrypt(encryption.encrypt(secret, 'kid-1'), 'kid-2')).toThrow();
  });

  it('refuses a ciphertext with one character changed', () => {
    const stored = encryption.encrypt(secret, 'kid-1');
    const last = stored.at(-1) === 'A' ? 'B' : 'A';
    expect(() => encryption.decrypt(stored.slice(0, -1) + last, 'kid-1')).toThrow();
  });

  it('refuses data encrypted under another KEY_ENCRYPTION_KEY', () => {
    const other = new KeyEncryption(randomBytes(32));
    expect(() => encryption.decrypt(other.encrypt(secret, 'kid-1'), 'kid-1')).toThrow();
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new KeyEncryption(randomBytes(16))).toThrow('KEY_ENCRYPTION_KEY must be 32 bytes');
  });
});
