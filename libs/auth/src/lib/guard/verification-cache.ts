import { LRUCache } from 'lru-cache';
import type { Principal } from '../tokens/principal';

/** A verified token as the guard needs it on every request. */
export interface CachedVerification {
  principal: Principal;
  /** `iat`, for user-wide revocations. */
  iat: number;
}

interface Entry extends CachedVerification {
  /** `exp` plus the clock tolerance, in epoch milliseconds. */
  acceptUntil: number;
  kid: string;
}

/**
 * Verified access tokens, keyed by the exact token string, each kept until it expires: a client
 * that reuses its token (the normal case) costs a map lookup instead of a signature check.
 * Bounded (least recently used entries go first). A hit is refused once the token has expired or
 * its signing key has left the issuer's key set, exactly as a fresh verification would be; a
 * token string that differs by one byte is a different key, so it is verified in full.
 */
export class VerificationCache {
  private readonly entries: LRUCache<string, Entry> | undefined;

  constructor(
    size: number,
    private readonly clockToleranceSeconds: number,
  ) {
    this.entries = size > 0 ? new LRUCache<string, Entry>({ max: size }) : undefined;
  }

  /** The principal of a token verified before and still acceptable, given the key ids still published. */
  get(token: string, isPublished: (kid: string) => boolean): CachedVerification | undefined {
    const entry = this.entries?.get(token);
    if (!entry) return undefined;
    if (Date.now() >= entry.acceptUntil || !isPublished(entry.kid)) {
      this.entries?.delete(token);
      return undefined;
    }
    return entry;
  }

  set(token: string, verified: CachedVerification, exp: number, kid: string): void {
    const acceptUntil = (exp + this.clockToleranceSeconds) * 1000;
    const ttl = acceptUntil - Date.now();
    if (this.entries && ttl > 0)
      this.entries.set(token, { ...verified, acceptUntil, kid }, { ttl });
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }
}
