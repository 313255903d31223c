import type { VerifiedAccessToken } from '@tessera/auth-token';
import { LRUCache } from 'lru-cache';

/**
 * Verified access tokens, keyed by the exact token string: a client that reuses its token (the
 * normal case) costs a map lookup instead of a signature check. Bounded (least recently used
 * entries go first). A hit is refused, and dropped, once the token has expired by the verifier's
 * clock or its signing key has left the issuer's key set, exactly as a fresh verification would
 * refuse it; a token string that differs by one byte is a different key, so it is verified in
 * full. Expiry is judged on every hit rather than by an LRU time-to-live, which would read a
 * clock of its own on every lookup: an expired entry that is never asked for again waits for
 * eviction, and the size bound holds either way.
 */
export class VerificationCache {
  private readonly entries: LRUCache<string, VerifiedAccessToken> | undefined;

  constructor(size: number) {
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
    this.entries?.set(token, verified);
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }
}
