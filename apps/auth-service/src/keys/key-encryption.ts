import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Bumped if the format ever changes, so old rows stay readable. */
const FORMAT = 'v1';

/**
 * Encrypts signing keys at rest with AES-256-GCM under KEY_ENCRYPTION_KEY. The key id (`kid`) is
 * bound as additional authenticated data, so a ciphertext cannot be moved to another key's row.
 * Stored form: `v1.<iv>.<tag>.<ciphertext>`, each part base64url.
 */
export class KeyEncryption {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('KEY_ENCRYPTION_KEY must be 32 bytes');
  }

  encrypt(plaintext: string, kid: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(kid, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, iv, cipher.getAuthTag(), ciphertext]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /** @throws Error when the data was altered, belongs to another kid, or another key encrypted it. */
  decrypt(stored: string, kid: string): string {
    const [format, iv, tag, ciphertext] = stored.split('.');
    if (format !== FORMAT || !iv || !tag || ciphertext === undefined) {
      throw new Error('Unrecognised encrypted key format');
    }
    const decipher = createDecipheriv(ALGORITHM, this.key, Buffer.from(iv, 'base64url'), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(kid, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([
      decipher.update(Buffer.from(ciphertext, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
  }
}
