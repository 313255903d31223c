/**
 * How a user signed in, as tokens say it: RFC 8176 `amr` values, two `acr` classes, and the one
 * rule that decides whether a sign-in is strong and recent enough (RFC 9470 step-up). Issuer and
 * verifiers both import it, so they cannot disagree about what `acr` means.
 */

/** The RFC 8176 methods Tessera puts in `amr`. */
export const AMR = {
  /** A password. */
  password: 'pwd',
  /** A one-time password: a TOTP code or a recovery code. */
  oneTimePassword: 'otp',
  /** Proof of possession of a hardware-bound key: a passkey. */
  hardwareKey: 'hwk',
  /** The authenticator tested the user's presence and verified them (WebAuthn UV). */
  userPresence: 'user',
  /** More than one factor. */
  multiFactor: 'mfa',
} as const;

export type AuthenticationMethod = (typeof AMR)[keyof typeof AMR];

/** One factor: a password alone. */
export const ACR_SINGLE_FACTOR = 'urn:tessera:acr:sfa';
/** Two factors: a password and a code or a passkey, or a user-verifying passkey alone. */
export const ACR_MULTI_FACTOR = 'urn:tessera:acr:mfa';

/** Weakest first: a class satisfies every class at or before it. */
const ACR_ORDER: readonly string[] = [ACR_SINGLE_FACTOR, ACR_MULTI_FACTOR];

/** The `acr` a sign-in with these methods reached. */
export function acrOf(amr: readonly string[]): string {
  return amr.includes(AMR.multiFactor) ? ACR_MULTI_FACTOR : ACR_SINGLE_FACTOR;
}

/** What a route (or an authorization request) asks of the sign-in behind a token. */
export interface AuthenticationRequirement {
  /** The least `acr` accepted (ACR_MULTI_FACTOR for a second factor). */
  acr?: string;
  /** The sign-in must be at most this many seconds old (`auth_time`). */
  maxAge?: number;
}

/**
 * Whether a sign-in meets `needed`: its `acr` at least the one asked for (an unknown or missing
 * `acr` meets none), and its `auth_time` within `maxAge` seconds of `nowSeconds`.
 *
 * @example
 * ```ts
 * satisfiesAuthentication({ acr: principal.acr, authTime: principal.authTime }, { acr: ACR_MULTI_FACTOR, maxAge: 300 }, nowSeconds);
 * ```
 */
export function satisfiesAuthentication(
  signIn: { acr: string | undefined; authTime: number | undefined },
  needed: AuthenticationRequirement,
  nowSeconds: number,
): boolean {
  if (needed.acr !== undefined) {
    const have = signIn.acr === undefined ? -1 : ACR_ORDER.indexOf(signIn.acr);
    const want = ACR_ORDER.indexOf(needed.acr);
    if (have < 0 || have < want) return false;
  }
  if (needed.maxAge !== undefined) {
    if (signIn.authTime === undefined || nowSeconds - signIn.authTime > needed.maxAge) return false;
  }
  return true;
}
