/** The asymmetric algorithms auth-service signs with; HMAC is never an option for access tokens. */
export const SIGNING_ALGORITHMS = ['ES256', 'RS256'] as const;

export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

export function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
  return typeof value === 'string' && (SIGNING_ALGORITHMS as readonly string[]).includes(value);
}
