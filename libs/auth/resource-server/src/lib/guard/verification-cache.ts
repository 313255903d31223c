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
 * An entry is found by the token's last 22 characters (128 bits of its signature) and holds the
 * whole token, which a hit must equal: a token string that differs by one byte anywhere (the same
 * signature on another header or payload included) is a miss, and is verified in full. The
 * lookup hashes those 22 characters instead of the whole token (about 800): hashing the token was
 * the largest part of what a reused token cost the guard (docs/performance.md), and comparing two
 * strings is cheaper than hashing one. Taking them costs nothing more; finding where the
 * signature starts would read it first.
 */
export class VerificationCache {
  /** By the token's last characters; each entry holds its whole token. */
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
    const key = keyOf(token);
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
    this.entries?.set(keyOf(token), entry);
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }
}

interface Entry extends CachedVerification {
  /** The whole token, which a hit must equal. */
  token: string;
}

/**
 * 22 base64url characters: 128 bits of a signature (an ES256 one is 86 characters), as unlikely
 * to match another token's as a random UUID, and a match only costs a full verification.
 */
const KEY_LENGTH = 22;

/** A token's last {@link KEY_LENGTH} characters, which a JWS's signature ends with. */
function keyOf(token: string): string {
  return token.slice(-KEY_LENGTH);
}
