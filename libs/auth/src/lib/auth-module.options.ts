import { ACCESS_TOKEN_ALGORITHMS } from './tokens/access-token.format';
import type { AccessTokenAlgorithm } from './tokens/access-token.format';

/** What `AuthModule.forRoot()` / `forRootAsync()` takes. Only `issuer` and `audience` are required. */
export interface AuthModuleOptions {
  /** The exact `iss` of accepted tokens, e.g. `https://auth.example.com` (R15). */
  issuer: string;
  /** This service's id; an accepted token's `aud` must contain it (R16). */
  audience: string;
  /** Where the issuer publishes its keys. Default: `<issuer>/.well-known/jwks.json`. */
  jwksUri?: string;
  /** Accepted signature algorithms, a subset of ES256 and RS256. Default: both (R7). */
  algorithms?: readonly AccessTokenAlgorithm[];
  /** Leeway in seconds for `exp` and `nbf` between this host's clock and the issuer's, 0–60. Default 30 (R17). */
  clockTolerance?: number;
  /** Seconds the key set is used before it is fetched again: the bound for a removed key (R24). Default 300. */
  jwksCacheMaxAge?: number;
  /** An unknown `kid` refetches the key set at most once per this many seconds (R12). Default 30. */
  jwksCooldown?: number;
  /** Milliseconds a JWKS request may take. Default 3000. */
  jwksTimeout?: number;
  /** Verified tokens remembered until they expire, so a reused token costs no signature check. 0 turns it off. Default 10000. */
  verificationCacheSize?: number;
}

/** The options with every default applied, after validation. */
export type ResolvedAuthOptions = Required<AuthModuleOptions>;

/** Thrown at start-up for options that cannot be right; the message names each one. */
export class AuthOptionsError extends Error {
  constructor(problems: string[]) {
    super(`Invalid AuthModule options: ${problems.join('; ')}`);
    this.name = AuthOptionsError.name;
  }
}

export function resolveAuthOptions(options: AuthModuleOptions): ResolvedAuthOptions {
  const resolved: ResolvedAuthOptions = {
    jwksUri: `${options.issuer}/.well-known/jwks.json`,
    algorithms: ACCESS_TOKEN_ALGORITHMS,
    clockTolerance: 30,
    jwksCacheMaxAge: 300,
    jwksCooldown: 30,
    jwksTimeout: 3000,
    verificationCacheSize: 10_000,
    ...withoutUndefined(options),
  };
  const problems: string[] = [];
  if (!isHttpUrl(resolved.issuer)) problems.push('issuer must be an http(s) URL');
  if (typeof resolved.audience !== 'string' || resolved.audience === '') {
    problems.push('audience must be this service’s id, e.g. resource-service');
  }
  if (!isHttpUrl(resolved.jwksUri)) problems.push('jwksUri must be an http(s) URL');
  if (
    resolved.algorithms.length === 0 ||
    !resolved.algorithms.every((alg) =>
      (ACCESS_TOKEN_ALGORITHMS as readonly string[]).includes(alg),
    )
  ) {
    problems.push(`algorithms must be a non-empty subset of ${ACCESS_TOKEN_ALGORITHMS.join(', ')}`);
  }
  checkRange(problems, 'clockTolerance', resolved.clockTolerance, 0, 60);
  checkRange(problems, 'jwksCacheMaxAge', resolved.jwksCacheMaxAge, 1, 86_400);
  checkRange(problems, 'jwksCooldown', resolved.jwksCooldown, 0, 3600);
  checkRange(problems, 'jwksTimeout', resolved.jwksTimeout, 1, 60_000);
  checkRange(problems, 'verificationCacheSize', resolved.verificationCacheSize, 0, 10_000_000);
  if (problems.length > 0) throw new AuthOptionsError(problems);
  return resolved;
}

function checkRange(problems: string[], name: string, value: number, min: number, max: number) {
  if (!Number.isFinite(value) || value < min || value > max) {
    problems.push(`${name} must be a number from ${min} to ${max}`);
  }
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
