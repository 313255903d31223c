import type { VerifiedAccessToken } from '@tessera/auth-token';

/** What a hit needs: the caller, and the key that signed the token (the claims are not kept). */
export type CachedVerification = Pick<VerifiedAccessToken, 'principal' | 'kid'>;
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
  private readonly entries: LRUCache<string, CachedVerification> | undefined;

  constructor(size: number) {
    this.entries = size > 0 ? new LRUCache<string, CachedVerification>({ max: size }) : undefined;
  }

  /**
   * The verification of a token seen before and still acceptable: `isUnexpired` judges its `exp`
   * by the verifier's clock, `isPublished` whether its key is still in the key set.
   */
  get(
    token: string,
    isUnexpired: (expiresAt: number) => boolean,
    isPublished: (kid: string) => boolean,
  ): CachedVerification | undefined {
    const entry = this.entries?.get(token);
    if (!entry) return undefined;
    if (!isUnexpired(entry.principal.expiresAt) || !isPublished(entry.kid)) {
      this.entries?.delete(token);
      return undefined;
    }
    return entry;
  }

  set(token: string, verified: VerifiedAccessToken): void {
    // The principal and the kid only: a full cache holds 10,000 of these by default.
    const entry: CachedVerification = { principal: verified.principal, kid: verified.kid };
    this.entries?.set(token, entry);
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }
}
