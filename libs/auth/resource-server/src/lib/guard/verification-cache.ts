import type { VerifiedAccessToken } from '@tessera/auth-token';

/** What a hit needs: the caller, and the key that signed the token (the claims are not kept). */
export type CachedVerification = Pick<VerifiedAccessToken, 'principal' | 'kid'>;
import { LRUCache } from 'lru-cache';

/**
 * Verified access tokens: a client that reuses its token (the normal case) costs a map lookup
 * instead of a signature check. Bounded (least recently used entries go first). A hit is refused,
 * and dropped, once the token has expired by the verifier's clock or its signing key has left the
 * issuer's key set, exactly as a fresh verification would refuse it. Expiry is judged on every
 * hit rather than by an LRU time-to-live, which would read a clock of its own on every lookup: an
 * expired entry that is never asked for again waits for eviction, and the size bound holds either
 * way.
 *
 * An entry is found by the token's signature segment and holds the whole token, which a hit must
 * equal: a token string that differs by one byte anywhere (the same signature on another header
 * or payload included) is a miss, and is verified in full. The lookup hashes the 86 characters of
 * an ES256 signature instead of the whole token (about 800): hashing the token was the largest part
 * of what a reused token cost the guard (docs/performance.md), and comparing two strings is cheaper
 * than hashing one.
 */
export class VerificationCache {
  /** By signature segment; each entry holds its whole token. */
  private readonly entries: LRUCache<string, Entry> | undefined;

  constructor(size: number) {
    this.entries = size > 0 ? new LRUCache<string, Entry>({ max: size }) : undefined;
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
    const key = signatureOf(token);
    const entry = this.entries?.get(key);
    if (entry?.token !== token) return undefined;
    if (!isUnexpired(entry.principal.expiresAt) || !isPublished(entry.kid)) {
      this.entries?.delete(key);
      return undefined;
    }
    return entry;
  }

  set(token: string, verified: VerifiedAccessToken): void {
    // The principal and the kid only, beside the token: a full cache holds 10,000 of these by
    // default.
    const entry: Entry = { token, principal: verified.principal, kid: verified.kid };
    this.entries?.set(signatureOf(token), entry);
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }
}

interface Entry extends CachedVerification {
  /** The whole token, which a hit must equal. */
  token: string;
}

/** What follows a token's last dot: a JWS's signature (the whole string when there is none). */
function signatureOf(token: string): string {
  return token.slice(token.lastIndexOf('.') + 1);
}
