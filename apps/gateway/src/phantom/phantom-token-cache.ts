/** What the gateway knows of one reference token: the JWT it stands for, or that it is dead. */
export type PhantomLookup = { jwt: string } | { inactive: true } | undefined;

interface Entry {
  /** undefined: introspection said the reference is not live. */
  jwt?: string;
  sessionId?: string;
  /** Milliseconds since the epoch. */
  until: number;
}

/**
 * A Map bounded to `max` entries, the oldest out first (a Map iterates in insertion order).
 * Returns the entry it pushed out, if any.
 */
function setBounded(
  map: Map<string, Entry>,
  max: number,
  key: string,
  entry: Entry,
): [string, Entry] | undefined {
  map.delete(key);
  let evicted: [string, Entry] | undefined;
  if (map.size >= max) {
    evicted = map.entries().next().value;
    if (evicted !== undefined) map.delete(evicted[0]);
  }
  map.set(key, entry);
  return evicted;
}

export interface PhantomTokenCacheOptions {
  /**
   * Swaps kept at most, and inactive answers kept at most, each apart; past it the oldest of its
   * kind goes first. Apart, so that made-up references never push a live swap out.
   */
  maxEntries?: number;
  /** How long an inactive answer is kept, in milliseconds. */
  inactiveMs?: number;
  /** The clock, in milliseconds since the epoch; tests move it. */
  now?: () => number;
}

/**
 * The gateway's memory of reference tokens it has swapped (phantom tokens), keyed as PhantomTokens
 * asks (a reference at one audience): each JWT until the JWT's own `exp` (60 s at most, as
 * auth-service signs it), so a reference is introspected at most once a minute per audience; an
 * inactive answer for a short while, so a client retrying a dead token does not make auth-service
 * look it up on every request. A
 * session's entries go at once when the revocation feed ends it (`forgetSession`): the edge's
 * guard refuses the JWT, and the gateway drops what it held for that session. Inactive answers
 * are bounded apart from the swaps: anyone can send made-up references, and they must not push
 * the live swaps out (each would cost auth-service a lookup again). The swaps are indexed by
 * session, so that a revocation costs in proportion to that session's entries, not the cache's.
 */
export class PhantomTokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inactive = new Map<string, Entry>();
  /** The references of `entries` by session (`sid`): kept in step with it, never without it. */
  private readonly bySession = new Map<string, Set<string>>();
  private readonly maxEntries: number;
  private readonly inactiveMs: number;
  private readonly now: () => number;

  constructor(options: PhantomTokenCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 100_000;
    this.inactiveMs = options.inactiveMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  get(reference: string): PhantomLookup {
    const entry = this.entries.get(reference) ?? this.inactive.get(reference);
    if (!entry) return undefined;
    if (entry.until <= this.now()) {
      this.forget(reference);
      return undefined;
    }
    return entry.jwt === undefined ? { inactive: true } : { jwt: entry.jwt };
  }

  /**
   * Keeps `jwt` for `reference` until the JWT's `exp`. A JWT whose payload names no `exp` is not
   * kept: it is asked for again (and the guard refuses it anyway).
   */
  remember(reference: string, jwt: string): void {
    const { exp, sid } = payloadOf(jwt);
    if (typeof exp !== 'number') return;
    this.inactive.delete(reference);
    this.forgetSwap(reference);
    const sessionId = typeof sid === 'string' ? sid : undefined;
    const evicted = setBounded(this.entries, this.maxEntries, reference, {
      jwt,
      until: exp * 1000,
      ...(sessionId !== undefined && { sessionId }),
    });
    if (evicted) this.unindex(evicted[0], evicted[1].sessionId);
    if (sessionId === undefined) return;
    const references = this.bySession.get(sessionId) ?? new Set<string>();
    this.bySession.set(sessionId, references.add(reference));
  }

  rememberInactive(reference: string): void {
    this.forgetSwap(reference);
    setBounded(this.inactive, this.maxEntries, reference, { until: this.now() + this.inactiveMs });
  }

  /** Drops every reference of `sessionId`: after a refresh a session can have several. */
  forgetSession(sessionId: string): void {
    const references = this.bySession.get(sessionId);
    if (!references) return;
    this.bySession.delete(sessionId);
    for (const reference of references) this.entries.delete(reference);
  }

  /** The session (`sid`) of a remembered JWT. */
  sessionOf(reference: string): string | undefined {
    return this.entries.get(reference)?.sessionId;
  }

  forget(reference: string): void {
    this.forgetSwap(reference);
    this.inactive.delete(reference);
  }

  get size(): number {
    return this.entries.size + this.inactive.size;
  }

  /** Sessions the cache holds swaps of (each with one entry at least). */
  get sessions(): number {
    return this.bySession.size;
  }

  private forgetSwap(reference: string): void {
    const entry = this.entries.get(reference);
    if (!entry) return;
    this.entries.delete(reference);
    this.unindex(reference, entry.sessionId);
  }

  private unindex(reference: string, sessionId: string | undefined): void {
    if (sessionId === undefined) return;
    const references = this.bySession.get(sessionId);
    references?.delete(reference);
    if (references?.size === 0) this.bySession.delete(sessionId);
  }
}

/** The claims of a JWT auth-service just signed, unverified: only to know how long to keep it. */
function payloadOf(jwt: string): { exp?: unknown; sid?: unknown } {
  try {
    const payload: unknown = JSON.parse(
      Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'),
    );
    return typeof payload === 'object' && payload !== null ? payload : {};
  } catch {
    return {};
  }
}
