import type { VerifiedAccessToken } from '@tessera/auth-token';
import { LRUCache } from 'lru-cache';

/**
 * Verified access tokens, keyed by the exact token string, each kept until it expires: a client
 * that reuses its token (the normal case) costs a map lookup instead of a signature check.
 * Bounded (least recently used entries go first). A hit is refused once the token has expired or
 * its signing key has left the issuer's key set, exactly as a fresh verification would be; a
 * token string that differs by one byte is a different key, so it is verified in full.
 */
export class VerificationCache {
  private readonly entries: LRUCache<string, VerifiedAccessToken> | undefined;

  constructor(
    size: number,
    private readonly clockToleranceSeconds: number,
  ) {
    this.entries = size > 0 ? new LRUCache<string, VerifiedAccessToken>({ max: size }) : undefined;
  }

  /**
   * The verification of a token seen before and still acceptable: `isUnexpired` judges its `exp`
   * by the verifier's clock, `isPublished` whether its key is still in the key set.
   */
  get(
    token: string,
    isUnexpired: (expiresAt: number) => boolean,
    isPublished: (kid: string) => boolean,
  ): VerifiedAccessToken | undefined {
    const entry = this.entries?.get(token);
    if (!entry) return undefined;
    if (!isUnexpired(entry.principal.expiresAt) || !isPublished(entry.kid)) {
      this.entries?.delete(token);
      return undefined;
    }
    return entry;
  }

  set(token: string, verified: VerifiedAccessToken): void {
    // The entry leaves the cache by itself after the token's life, clock tolerance included.
    const ttl = (verified.principal.expiresAt + this.clockToleranceSeconds) * 1000 - Date.now();
    if (this.entries && ttl > 0) this.entries.set(token, verified, { ttl });
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }
}
