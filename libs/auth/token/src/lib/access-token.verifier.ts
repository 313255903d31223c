import type { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import {
  ACCESS_TOKEN_ALGORITHMS,
  readAccessTokenClaims,
  readAccessTokenHeader,
} from './access-token.format';
import type { AccessTokenAlgorithm, AccessTokenClaims } from './access-token.format';
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
 * 1. the header, before any key is looked up: size, strict base64url, allowlisted `alg`,
 *    `typ: at+jwt`, no `crit`, a plain `kid` (readAccessTokenHeader);
 * 2. the key: by `kid` from the issuer's keys only, and its algorithm must be the header's;
 * 3. the signature, by jsonwebtoken with that KeyObject and that one algorithm;
 * 4. the claims, typed (readAccessTokenClaims), then `iss` exact, `aud` naming one of ours, `exp`
 *    and `nbf` against the injected clock with CLOCK_TOLERANCE_SECONDS.
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

  constructor(private readonly options: AccessTokenVerifierOptions) {
    this.audiences = new Set(options.audiences);
    this.algorithms = options.algorithms ?? ACCESS_TOKEN_ALGORITHMS;
    this.clockTolerance = options.clockTolerance ?? CLOCK_TOLERANCE_SECONDS;
    this.clock = options.clock ?? new Clock();
  }

  /** @throws InvalidAccessTokenError with the reason, whatever is wrong; anything else is a bug. */
  async verify(token: string): Promise<VerifiedAccessToken> {
    const header = readAccessTokenHeader(token, this.algorithms);
    const key = await this.options.keys.key(header.kid);
    if (!key) throw new InvalidAccessTokenError('unknown_key');
    // One algorithm per key (RFC 8725 §3.1): the header cannot pick another for this key.
    if (key.alg !== header.alg) throw new InvalidAccessTokenError('algorithm');
    const claims = readAccessTokenClaims(verifySignature(token, key));
    this.checkClaims(claims);
    return { principal: principalOf(claims), claims, kid: header.kid };
  }

  /** Whether a verified token is still within its lifetime now (for a cache of verifications). */
  isUnexpired(expiresAt: number): boolean {
    return this.nowSeconds() < expiresAt + this.clockTolerance;
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
    return Math.floor(this.clock.now().getTime() / 1000);
  }
}

/**
 * The payload, once the signature holds. jsonwebtoken checks only the signature here (the time
 * and claim checks above are ours, with our clock and our reasons), so any failure of it is a
 * signature that does not verify with this key.
 */
function verifySignature(token: string, key: VerificationKey): unknown {
  try {
    // Typed string | Buffer, but jsonwebtoken 9 uses a KeyObject as it is: nothing is parsed
    // again on every call.
    return jwt.verify(token, key.key as unknown as Buffer, {
      algorithms: [key.alg],
      ignoreExpiration: true,
      ignoreNotBefore: true,
      complete: false,
    });
  } catch {
    throw new InvalidAccessTokenError('signature');
  }
}
