import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 bits from the CSPRNG, 43 base64url characters: nothing to brute-force, so SHA-256 suffices. */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashClientSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Compares in constant time: both sides are 32-byte hashes, whatever was presented. */
export function clientSecretMatches(presented: string, stored: Buffer | null): boolean {
  const hash = hashClientSecret(presented);
  // Against a hash of nothing when the client has no secret, so timing tells nothing either way.
  return timingSafeEqual(hash, stored ?? Buffer.alloc(32)) && stored !== null;
}
