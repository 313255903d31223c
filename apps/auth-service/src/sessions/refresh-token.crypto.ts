import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const TOKEN_BYTES = 32;
/** 32 bytes in unpadded base64url. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const SUCCESSOR_KEY_INFO = 'tessera/refresh-token-successor/v1';

/**
 * The secrets behind refresh tokens (checklist I8): opaque 256-bit tokens from the CSPRNG, the
 * SHA-256 that is all the database keeps, and the deterministic successor that lets a retry
 * inside the grace window get the same token again without the plaintext ever being stored.
 */
export class RefreshTokenCrypto {
  private readonly successorKey: Buffer;

  /** @param keyEncryptionKey KEY_ENCRYPTION_KEY; a purpose-bound key is derived from it with HKDF. */
  constructor(keyEncryptionKey: Buffer) {
    if (keyEncryptionKey.length !== 32) throw new Error('KEY_ENCRYPTION_KEY must be 32 bytes');
    this.successorKey = Buffer.from(
      hkdfSync('sha256', keyEncryptionKey, Buffer.alloc(0), SUCCESSOR_KEY_INFO, 32),
    );
  }

  /** A fresh token: 256 random bits, 43 base64url characters. */
  generate(): string {
    return randomBytes(TOKEN_BYTES).toString('base64url');
  }

  /**
   * The one successor `token` can ever have: HMAC-SHA256 under a server-held key, so it is as
   * unguessable as a random token to anyone without KEY_ENCRYPTION_KEY, yet recomputable from the
   * presented token when a retry arrives.
   */
  successorOf(token: string): string {
    return createHmac('sha256', this.successorKey).update(token, 'utf8').digest('base64url');
  }

  /**
   * SHA-256 of the token's text, not of its decoded bytes: base64url has several spellings of the
   * same last byte, and hashing the text makes every altered character a different, unknown token.
   */
  hash(token: string): Buffer {
    return createHash('sha256').update(token, 'utf8').digest();
  }

  /** Shape check before any lookup: cheap refusal of empty, oversized or foreign input. */
  isWellFormed(token: unknown): token is string {
    return typeof token === 'string' && TOKEN_PATTERN.test(token);
  }
}
