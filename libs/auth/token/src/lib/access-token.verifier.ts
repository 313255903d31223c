import { verify } from 'node:crypto';
import type { KeyObject, VerifyKeyObjectInput } from 'node:crypto';
import {
  ACCESS_TOKEN_ALGORITHMS,
  readAccessTokenClaims,
  readAccessTokenHeader,
  readCompactJws,
  readJwsPayload,
} from './access-token.format';
import type {
  AccessTokenAlgorithm,
  AccessTokenClaims,
  AccessTokenHeader,
} from './access-token.format';
import { Clock } from './clock';
import { InvalidAccessTokenError } from './invalid-access-token.error';
import { principalOf } from './principal';
import type { Principal } from './principal';

/**
 * Seconds of leeway for `exp` and `nbf` between the issuer's clock and a verifier's: small
 * (RFC 8725 §3.10 asks for little), and the one default of every Tessera verifier.
 */
export const CLOCK_TOLERANCE_SECONDS = 30;

/** A public key that verifies one algorithm, as a KeyObject (never a PEM string to re-parse). */
export interface VerificationKey {
  alg: AccessTokenAlgorithm;
  key: KeyObject;
}

/** Where a verifier finds the key for a `kid`: the issuer's JWKS, or auth-service's own keys. */
export interface VerificationKeySource {
  /** The key for `kid`, or undefined when the issuer publishes none by that id. */
  key(kid: string): Promise<VerificationKey | undefined>;
  /** Whether `kid` is published right now, without waiting: a cached verification dies with its key. */
  has(kid: string): boolean;
}

export interface AccessTokenVerifierOptions {
  /** The exact `iss` of accepted tokens. */
  issuer: string;
  /** A token is accepted when its `aud` names at least one of these. */
  audiences: readonly string[];
  keys: VerificationKeySource;
  /** Accepted algorithms, a subset of ACCESS_TOKEN_ALGORITHMS. Default: all of them. */
  algorithms?: readonly AccessTokenAlgorithm[];
  /** Default CLOCK_TOLERANCE_SECONDS. */
  clockTolerance?: number;
  clock?: Clock;
}

/** A token that passed every check: its caller, and what a cache of verifications needs. */
export interface VerifiedAccessToken {
  principal: Principal;
  claims: AccessTokenClaims;
  /** The key that signed it: a cached verification dies with the key. */
  kid: string;
}

/**
 * The one access-token verification of Tessera: resource services (through the guard), the
 * gateway and auth-service itself all call this. In order, each failure its own
 * InvalidAccessTokenError reason, never a library's message text:
 *
 * 1. the token's form and header, before any key is looked up: size, three canonical base64url
 *    segments (readCompactJws), an allowlisted `alg`, `typ: at+jwt`, no `crit`, a plain `kid`
 *    (readAccessTokenHeader);
 * 2. the key: by `kid` from the issuer's keys only, and its algorithm must be the header's;
 * 3. the signature: one `crypto.verify` with that KeyObject, for that one algorithm and a key of
 *    its type (verifySignature);
 * 4. the payload, decoded once, and its claims, typed (readAccessTokenClaims), then `iss` exact,
 *    `aud` naming one of ours, `exp` and `nbf` against the injected clock with
 *    CLOCK_TOLERANCE_SECONDS.
 *
 * @example
 * ```ts
 * const verifier = new AccessTokenVerifier({ issuer: 'https://auth.example.com', audiences: ['orders-service'], keys: jwks });
 * const { principal } = await verifier.verify(token); // or throws InvalidAccessTokenError
 * ```
 */
export class AccessTokenVerifier {
  private readonly audiences: ReadonlySet<string>;
  private readonly algorithms: readonly AccessTokenAlgorithm[];
  private readonly clockTolerance: number;
  private readonly clock: Clock;
  /**
   * Headers already read, by their encoded segment: every token of one key has the same one, so
   * its decoding and checks are done once per key, not per token. Only headers that passed are
   * kept, and never more than MAX_KNOWN_HEADERS.
   */
  private readonly knownHeaders = new Map<string, AccessTokenHeader>();

  constructor(private readonly options: AccessTokenVerifierOptions) {
    this.audiences = new Set(options.audiences);
    this.algorithms = options.algorithms ?? ACCESS_TOKEN_ALGORITHMS;
    this.clockTolerance = options.clockTolerance ?? CLOCK_TOLERANCE_SECONDS;
    this.clock = options.clock ?? new Clock();
  }

  /** @throws InvalidAccessTokenError with the reason, whatever is wrong; anything else is a bug. */
  async verify(token: string): Promise<VerifiedAccessToken> {
    const jws = readCompactJws(token);
    const header = this.readHeader(jws.header);
    const key = await this.options.keys.key(header.kid);
    if (!key) throw new InvalidAccessTokenError('unknown_key');
    // One algorithm per key (RFC 8725 §3.1): the header cannot pick another for this key.
    if (key.alg !== header.alg) throw new InvalidAccessTokenError('algorithm');
    if (!verifySignature(jws.signingInput, jws.signature, key)) {
      throw new InvalidAccessTokenError('signature');
    }
    const claims = readAccessTokenClaims(readJwsPayload(jws.payload));
    this.checkClaims(claims);
    return { principal: principalOf(claims), claims, kid: header.kid };
  }

  /** Whether a verified token is still within its lifetime now (for a cache of verifications). */
  isUnexpired(expiresAt: number): boolean {
    return this.nowSeconds() < expiresAt + this.clockTolerance;
  }

  private readHeader(encoded: string): AccessTokenHeader {
    const known = this.knownHeaders.get(encoded);
    if (known) return known;
    const header = readAccessTokenHeader(encoded, this.algorithms);
    if (this.knownHeaders.size >= MAX_KNOWN_HEADERS) this.knownHeaders.clear();
    this.knownHeaders.set(encoded, header);
    return header;
  }

  private checkClaims(claims: AccessTokenClaims): void {
    if (claims.iss !== this.options.issuer) throw new InvalidAccessTokenError('issuer');
    const audiences = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
    if (!audiences.some((audience) => this.audiences.has(audience))) {
      throw new InvalidAccessTokenError('audience');
    }
    const now = this.nowSeconds();
    if (now >= claims.exp + this.clockTolerance) throw new InvalidAccessTokenError('expired');
    if (claims.nbf !== undefined && now + this.clockTolerance < claims.nbf) {
      throw new InvalidAccessTokenError('not_yet_valid');
    }
  }

  /** The verifier's clock, in epoch seconds: what `auth_time` is measured against. */
  nowSeconds(): number {
    // A clock given as a plain object with `now()` alone (`overrideProvider(Clock).useValue(…)`
    // in a test) is read through `now()`: a missing method must not turn every check into a 500.
    return typeof this.clock.epochSeconds === 'function'
      ? this.clock.epochSeconds()
      : Math.floor(this.clock.now().getTime() / 1000);
  }
}

/** A few keys' worth: an issuer publishes one or two at a time. */
const MAX_KNOWN_HEADERS = 16;

/** What each algorithm needs of its key, and how Node verifies with it (RFC 7518 §3.3, §3.4). */
const ALGORITHM_KEYS: Record<
  AccessTokenAlgorithm,
  {
    type: 'ec' | 'rsa';
    curve?: string;
    minimumModulusBits?: number;
    options: Omit<VerifyKeyObjectInput, 'key'>;
  }
> = {
  // r ‖ s, 32 bytes each (RFC 7518 §3.4), not DER.
  ES256: { type: 'ec', curve: 'prime256v1', options: { dsaEncoding: 'ieee-p1363' } },
  // "A key of size 2048 bits or larger MUST be used" (RFC 7518 §3.3).
  RS256: { type: 'rsa', minimumModulusBits: 2048, options: {} },
};

/**
 * Each key's input to `crypto.verify` for its algorithm, made once, after its type has been
 * checked (null: it does not fit). By KeyObject: a key source may wrap it anew on every lookup.
 */
const verifyInputs = new WeakMap<
  KeyObject,
  { alg: AccessTokenAlgorithm; input: VerifyKeyObjectInput | null }
>();

/**
 * Whether `signature` (encoded) is `key`'s SHA-256 signature of `signingInput`: one
 * `crypto.verify`, the one-shot form node:crypto's own ES256 check takes (the bench's reference
 * row), instead of jsonwebtoken, which decoded the token again, re-checked its options and
 * converted the signature to DER through streams on every call. A key of another type than its
 * algorithm's (an RSA key named ES256, a P-384 key), or an RSA key under 2048 bits, verifies
 * nothing.
 */
function verifySignature(signingInput: string, signature: string, key: VerificationKey): boolean {
  let known = verifyInputs.get(key.key);
  if (known?.alg !== key.alg) {
    known = { alg: key.alg, input: verifyInputOf(key) };
    verifyInputs.set(key.key, known);
  }
  const input = known.input;
  if (input === null) return false;
  try {
    return verify(
      'sha256',
      Buffer.from(signingInput, 'latin1'),
      input,
      Buffer.from(signature, 'base64url'),
    );
  } catch {
    // A signature of the wrong length for the key.
    return false;
  }
}

function verifyInputOf({ alg, key }: VerificationKey): VerifyKeyObjectInput | null {
  const expected = ALGORITHM_KEYS[alg];
  if (key.type !== 'public' || key.asymmetricKeyType !== expected.type) return null;
  if (expected.curve !== undefined && key.asymmetricKeyDetails?.namedCurve !== expected.curve) {
    return null;
  }
  if (
    expected.minimumModulusBits !== undefined &&
    (key.asymmetricKeyDetails?.modulusLength ?? 0) < expected.minimumModulusBits
  ) {
    return null;
  }
  return { key, ...expected.options };
}
