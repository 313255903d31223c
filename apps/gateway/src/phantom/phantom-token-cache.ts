/** What the gateway knows of one reference token: the JWT it stands for, or that it is dead. */
export type PhantomLookup = { jwt: string } | { inactive: true } | undefined;

interface Entry {
  /** undefined: introspection said the reference is not live. */
  jwt?: string;
  sessionId?: string;
  /** Milliseconds since the epoch. */
  until: number;
}

/** A Map bounded to `max` entries, the oldest out first (a Map iterates in insertion order). */
function setBounded(map: Map<string, Entry>, max: number, key: string, entry: Entry): void {
  map.delete(key);
  if (map.size >= max) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
  map.set(key, entry);
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
 * the live swaps out (each would cost auth-service a lookup again).
 */
export class PhantomTokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inactive = new Map<string, Entry>();
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
    setBounded(this.entries, this.maxEntries, reference, {
      jwt,
      until: exp * 1000,
      ...(typeof sid === 'string' && { sessionId: sid }),
    });
  }

  rememberInactive(reference: string): void {
    this.entries.delete(reference);
    setBounded(this.inactive, this.maxEntries, reference, { until: this.now() + this.inactiveMs });
  }

  /** Drops every reference of `sessionId`: after a refresh a session can have several. */
  forgetSession(sessionId: string): void {
    for (const [reference, entry] of this.entries) {
      if (entry.sessionId === sessionId) this.entries.delete(reference);
    }
  }

  /** The session (`sid`) of a remembered JWT. */
  sessionOf(reference: string): string | undefined {
    return this.entries.get(reference)?.sessionId;
  }

  forget(reference: string): void {
    this.entries.delete(reference);
    this.inactive.delete(reference);
  }

  get size(): number {
    return this.entries.size + this.inactive.size;
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
