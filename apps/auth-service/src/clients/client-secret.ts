import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 bits from the CSPRNG, 43 base64url characters: nothing to brute-force, so SHA-256 suffices. */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 of the UTF-8 secret, in one call (no Hash object: this runs on every token request). */
export function hashClientSecret(secret: string): Buffer {
  return hash('sha256', secret, 'buffer');
}

/** Compares in constant time: both sides are 32-byte hashes, whatever was presented. */
export function clientSecretMatches(presented: string, stored: Buffer | null): boolean {
  const hash = hashClientSecret(presented);
  // Against a hash of nothing when the client has no secret, so timing tells nothing either way.
  return timingSafeEqual(hash, stored ?? Buffer.alloc(32)) && stored !== null;
}
