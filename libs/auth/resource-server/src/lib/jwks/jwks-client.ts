import { Logger } from '@nestjs/common';
import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { isAccessTokenAlgorithm } from '@tessera/auth-token';
import type { AccessTokenAlgorithm, VerificationKeySource } from '@tessera/auth-token';

/** A verification key from the issuer's JWKS, ready for jsonwebtoken (never a PEM string). */
export interface JwksKey {
  kid: string;
  alg: AccessTokenAlgorithm;
  key: KeyObject;
}

export interface JwksClientOptions {
  jwksUri: string;
  /** Only keys for these algorithms are kept. */
  algorithms: readonly AccessTokenAlgorithm[];
  /**
   * Milliseconds the key set is used before it is fetched again, at most: the issuer's
   * `Cache-Control: max-age`, when shorter, wins.
   */
  cacheMaxAgeMs: number;
  /**
   * An unknown `kid` triggers a fetch at most once per this many milliseconds (R12); never more
   * than the set's max-age, so the cooldown cannot keep a set past it.
   */
  cooldownMs: number;
  /** Milliseconds one fetch may take. */
  timeoutMs: number;
  /** Told of every fetch once it has ended (AuthModule counts them in `tessera_jwks_fetches_total`). */
  onFetch?: (outcome: 'success' | 'failure') => void;
}

/** A JWKS larger than this is refused: a key set is a few kilobytes. */
const MAX_JWKS_BYTES = 256 * 1024;
const MIN_RSA_MODULUS_BITS = 2048;
/**
 * Until a first fetch has succeeded, failures this young (counted from the first attempt) are
 * logged at debug only: a service that starts next to its issuer usually asks before the issuer
 * answers, and that is no news.
 */
const QUIET_START_MS = 10_000;
/**
 * The shortest max-age followed: an issuer answering `max-age=0` must not turn every lookup into
 * a fetch (R12).
 */
const MIN_MAX_AGE_MS = 1000;

/**
 * The issuer's public keys, fetched over HTTP and kept in memory. Keys come only from `jwksUri`,
 * never from a token's header (R10).
 *
 * - The set is refetched once it is older than `cacheMaxAgeMs`, or the `Cache-Control: max-age`
 *   the issuer sent with it when that is shorter (auth-service's JWKS_MAX_AGE), so a key the
 *   issuer removed stops verifying within that time (R24), and a key it added is here within it:
 *   auth-service's SIGNING_KEY_ACTIVATION_DELAY is validated against JWKS_MAX_AGE, so this
 *   service has a new key before the key signs, whatever its own options (docs/deploying.md).
 * - An unknown `kid` refetches at once, but at most once per `cooldownMs` (never longer than the
 *   max-age in force, which it would otherwise stretch) however many such
 *   tokens arrive (R12); concurrent callers share one fetch. A known `kid` never waits for a
 *   fetch in flight, unless the set has outlived `cacheMaxAgeMs`.
 * - When a fetch fails the last good set stays in use (O2: the issuer may be down) and the
 *   failure is logged; the next attempt waits for the cooldown. Until a first fetch has
 *   succeeded there is no cooldown, so a service that starts before its issuer verifies tokens as
 *   soon as the issuer is up, and failures in the first 10 s after the first attempt are logged
 *   at debug only (the issuer is probably still starting).
 *
 * Why not jwks-rsa: it hands jsonwebtoken PEM strings (parsed again on every verification) and,
 * once its cache expires while the issuer is down, refuses every token.
 */
export class JwksClient implements VerificationKeySource {
  private readonly logger = new Logger(JwksClient.name);
  private keys = new Map<string, JwksKey>();
  /** When the current set was fetched (0: never). */
  private fetchedAt = 0;
  /** When the last attempt started, successful or not (0: never). */
  private attemptedAt = 0;
  private fetching: Promise<void> | undefined;
  private fetchCount = 0;
  /** When the first attempt started (0: none yet). */
  private firstAttemptAt = 0;
  /** How long the current set is used: cacheMaxAgeMs, or the issuer's shorter max-age. */
  private maxAgeMs: number;

  constructor(private readonly options: JwksClientOptions) {
    this.maxAgeMs = options.cacheMaxAgeMs;
  }

  /** How many times the JWKS has been requested (for tests and metrics). */
  get fetches(): number {
    return this.fetchCount;
  }

  /**
   * The key for `kid`, fetching the set when it is stale or the kid is new (within the cooldown).
   * A kid of the current set is answered at once, even while a fetch for another kid is in
   * flight; only an unknown kid, or a set past `cacheMaxAgeMs` (R24), waits for a fetch.
   */
  async key(kid: string): Promise<JwksKey | undefined> {
    if (this.isExpired()) {
      // The set may still hold a key the issuer has removed (R24): wait for a fresh one.
      if (this.fetching) await this.fetching;
      if (this.isStale()) await this.refresh();
    } else if (this.fetching && !this.keys.has(kid)) {
      // An unknown kid may be in the set being fetched: it shares that fetch.
      await this.fetching;
    }
    const known = this.keys.get(kid);
    if (known || !this.mayFetch()) return known;
    await this.refresh();
    return this.keys.get(kid);
  }

  /**
   * Whether `kid` is in the current set, without waiting: the verification cache asks this on
   * every hit. A stale set is refreshed in the background.
   */
  has(kid: string): boolean {
    if (this.isStale()) void this.refresh();
    return this.keys.has(kid);
  }

  /** Fetches the set now (one fetch at a time); failures are logged, never thrown. */
  refresh(): Promise<void> {
    this.fetching ??= this.fetchKeys().finally(() => (this.fetching = undefined));
    return this.fetching;
  }

  /** Older than its max-age: a key removed from the issuer's set may still be in it (R24). */
  private isExpired(): boolean {
    return Date.now() - this.fetchedAt >= this.maxAgeMs;
  }

  private isStale(): boolean {
    return this.isExpired() && this.mayFetch();
  }

  private mayFetch(): boolean {
    // Until a first fetch succeeds (the issuer may still be starting) there is nothing to protect
    // by waiting: every lookup may try, and concurrent ones share one fetch.
    if (this.fetchedAt === 0) return true;
    return Date.now() - this.attemptedAt >= Math.min(this.options.cooldownMs, this.maxAgeMs);
  }

  private async fetchKeys(): Promise<void> {
    this.attemptedAt = Date.now();
    this.firstAttemptAt ||= this.attemptedAt;
    this.fetchCount += 1;
    try {
      const response = await fetch(this.options.jwksUri, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const text = await response.text();
      if (text.length > MAX_JWKS_BYTES) throw new Error(`larger than ${MAX_JWKS_BYTES} bytes`);
      this.keys = this.parse(JSON.parse(text));
      this.maxAgeMs = this.maxAgeOf(response.headers.get('cache-control'));
      this.fetchedAt = Date.now();
      this.logger.debug(`Fetched ${this.keys.size} key(s) from ${this.options.jwksUri}`);
      this.options.onFetch?.('success');
    } catch (error) {
      this.options.onFetch?.('failure');
      const reason = error instanceof Error ? error.message : String(error);
      const starting = this.fetchedAt === 0 && Date.now() - this.firstAttemptAt < QUIET_START_MS;
      const message =
        `Could not fetch the JWKS from ${this.options.jwksUri} (${reason}); ` +
        `keeping the ${this.keys.size} key(s) already known`;
      if (starting) this.logger.debug(`${message}; the issuer may still be starting`);
      else this.logger.warn(message);
    }
  }

  /** `cacheMaxAgeMs`, or the response's `max-age` when shorter (at least MIN_MAX_AGE_MS). */
  private maxAgeOf(cacheControl: string | null): number {
    const seconds = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?\s*(?:,|$)/i.exec(cacheControl ?? '')?.[1];
    if (seconds === undefined) return this.options.cacheMaxAgeMs;
    return Math.min(this.options.cacheMaxAgeMs, Math.max(MIN_MAX_AGE_MS, Number(seconds) * 1000));
  }

  /** The usable keys of a JWK Set; a malformed or unsupported member is skipped, not fatal. */
  private parse(body: unknown): Map<string, JwksKey> {
    const members = (body as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(members)) throw new Error('the response is not a JWK Set');
    const keys = new Map<string, JwksKey>();
    for (const member of members) {
      const key = this.toKey(member);
      if (key && !keys.has(key.kid)) keys.set(key.kid, key);
    }
    return keys;
  }

  private toKey(member: unknown): JwksKey | undefined {
    if (typeof member !== 'object' || member === null) return undefined;
    const jwk = member as Record<string, unknown>;
    const { kid, alg, use, kty } = jwk;
    if (typeof kid !== 'string' || kid === '' || (use !== undefined && use !== 'sig')) {
      return undefined;
    }
    if (!isAccessTokenAlgorithm(alg) || !this.options.algorithms.includes(alg)) return undefined;
    try {
      if (alg === 'ES256' && (kty !== 'EC' || jwk['crv'] !== 'P-256')) return undefined;
      if (alg === 'RS256' && kty !== 'RSA') return undefined;
      // Public members only: a private `d` in a careless JWKS must not make a private key here.
      const publicJwk =
        kty === 'EC'
          ? { kty, crv: jwk['crv'], x: jwk['x'], y: jwk['y'] }
          : { kty, n: jwk['n'], e: jwk['e'] };
      const key = createPublicKey({ key: publicJwk as never, format: 'jwk' });
      const bits = key.asymmetricKeyDetails?.modulusLength;
      if (alg === 'RS256' && (bits ?? 0) < MIN_RSA_MODULUS_BITS) return undefined;
      return { kid, alg, key };
    } catch {
      return undefined;
    }
  }
}
