import type { ResolvedServiceClientOptions, ServiceClientOptions } from '@tessera/auth-client';
import { ACCESS_TOKEN_ALGORITHMS, CLOCK_TOLERANCE_SECONDS } from '@tessera/auth-token';
import type { AccessTokenAlgorithm, Principal, VerificationKeySource } from '@tessera/auth-token';

/** What `AuthModule.forRoot()` / `forRootAsync()` takes. Only `issuer` and `audience` are required. */
export interface AuthModuleOptions {
  /** The exact `iss` of accepted tokens, e.g. `https://auth.example.com` (R15). */
  issuer: string;
  /** This service's id; an accepted token's `aud` must contain it (R16). */
  audience: string;
  /**
   * Every audience an accepted token may name instead, for a gateway that verifies at the edge
   * for the services behind it (apps/gateway), and checks each route's own audience itself.
   * Default: `[audience]`.
   */
  acceptedAudiences?: readonly string[];
  /** Where the issuer publishes its keys. Default: `<issuer>/.well-known/jwks.json`. */
  jwksUri?: string;
  /** Accepted signature algorithms, a subset of ES256 and RS256. Default: both (R7). */
  algorithms?: readonly AccessTokenAlgorithm[];
  /** Leeway in seconds for `exp` and `nbf` between this host's clock and the issuer's, 0–60. Default CLOCK_TOLERANCE_SECONDS (30). */
  clockTolerance?: number;
  /** Seconds the key set is used before it is fetched again: the bound for a removed key (R24). Default 300. */
  jwksCacheMaxAge?: number;
  /** An unknown `kid` refetches the key set at most once per this many seconds (R12). Default 30. */
  jwksCooldown?: number;
  /** Milliseconds a JWKS request may take. Default 3000. */
  jwksTimeout?: number;
  /** Verified tokens remembered until they expire, so a reused token costs no signature check. 0 turns it off. Default 10000. */
  verificationCacheSize?: number;
  /**
   * This service's own OAuth client, for `ServiceTokenProvider` to obtain client-credentials
   * tokens for its outgoing calls (RFC 6749 §4.4). Without it, `token()` rejects.
   */
  client?: ServiceClientOptions;
  /**
   * auth-service's revocation log (`<issuer>/revocations`), followed over server-sent events with
   * this service's client-credentials token (`revocations:read`), so a revoked session's access
   * tokens are refused within about a second (R26). Needs `client`. Without it, revoked sessions'
   * tokens are accepted until they expire.
   */
  revocationsUri?: string;
  /**
   * A NATS server with JetStream (NATS_URL): revocations are followed on auth-service's events
   * stream (`session.revoked`) instead of `revocationsUri`, into the same list (ADR 0013). Needs
   * no `client`.
   */
  natsUrl?: string;
  /**
   * Where the verification keys come from instead of `jwksUri`: auth-service verifies with its
   * own keys in memory rather than fetching its own JWKS over HTTP.
   */
  keys?: VerificationKeySource;
  /**
   * Asked on every request with a user token, after verification: false refuses the token with
   * 401 `invalid_token`. auth-service answers from its sessions table, so an ended session stops
   * at once there; resource services leave it unset and learn of ended sessions from the
   * revocation feed.
   */
  isSessionActive?: (principal: Principal) => Promise<boolean>;
}

/** The options with every default applied, after validation; `client` stays absent when not given. */
export type ResolvedAuthOptions = Required<
  Omit<
    AuthModuleOptions,
    'client' | 'revocationsUri' | 'natsUrl' | 'keys' | 'isSessionActive' | 'acceptedAudiences'
  >
> &
  Pick<
    AuthModuleOptions,
    'revocationsUri' | 'natsUrl' | 'keys' | 'isSessionActive' | 'acceptedAudiences'
  > & {
    client?: ResolvedServiceClientOptions;
  };

/** Thrown at start-up for options that cannot be right; the message names each one. */
export class AuthOptionsError extends Error {
  constructor(problems: string[]) {
    super(`Invalid AuthModule options: ${problems.join('; ')}`);
    this.name = AuthOptionsError.name;
  }
}

export function resolveAuthOptions(options: AuthModuleOptions): ResolvedAuthOptions {
  const {
    client,
    revocationsUri,
    natsUrl,
    keys,
    isSessionActive,
    acceptedAudiences,
    ...verification
  } = withoutUndefined(options);
  const resolved: ResolvedAuthOptions = {
    jwksUri: `${options.issuer}/.well-known/jwks.json`,
    algorithms: ACCESS_TOKEN_ALGORITHMS,
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    jwksCacheMaxAge: 300,
    jwksCooldown: 30,
    jwksTimeout: 3000,
    verificationCacheSize: 10_000,
    ...verification,
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
  if (client !== undefined) resolved.client = resolveClient(problems, client, resolved.issuer);
  if (revocationsUri !== undefined) {
    if (!isHttpUrl(revocationsUri)) problems.push('revocationsUri must be an http(s) URL');
    if (client === undefined)
      problems.push('revocationsUri needs client: the feed is read with a service token');
    resolved.revocationsUri = revocationsUri;
  }
  if (acceptedAudiences !== undefined) {
    if (
      !Array.isArray(acceptedAudiences) ||
      acceptedAudiences.length === 0 ||
      !acceptedAudiences.every((audience) => typeof audience === 'string' && audience !== '')
    ) {
      problems.push('acceptedAudiences must be a non-empty list of service ids');
    }
    resolved.acceptedAudiences = acceptedAudiences;
  }
  if (natsUrl !== undefined) {
    if (!natsUrl.split(',').every(isNatsUrl)) {
      problems.push('natsUrl must be nats:// URLs separated by commas, e.g. nats://nats:4222');
    }
    resolved.natsUrl = natsUrl;
  }
  if (keys !== undefined) resolved.keys = keys;
  if (isSessionActive !== undefined) resolved.isSessionActive = isSessionActive;
  if (problems.length > 0) throw new AuthOptionsError(problems);
  return resolved;
}

/** RFC 6749 §3.3: scope tokens of printable ASCII without `"` and `\\`, one space apart. */
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/;

/** Messages name the field, never its value: the secret must not reach a log through them. */
function resolveClient(
  problems: string[],
  client: unknown,
  issuer: string,
): ResolvedServiceClientOptions | undefined {
  if (typeof client !== 'object' || client === null) {
    problems.push('client must be an object with id and secret');
    return undefined;
  }
  const { id, secret, tokenUri, introspectionUri, scope, audience } = withoutUndefined(
    client as ServiceClientOptions,
  );
  checkCredential(problems, 'client.id', id);
  checkCredential(problems, 'client.secret', secret);
  if (tokenUri !== undefined && !isHttpUrl(tokenUri)) {
    problems.push('client.tokenUri must be an http(s) URL');
  } else if (tokenUri !== undefined && hasUserInfo(tokenUri)) {
    problems.push(
      'client.tokenUri must not carry credentials; they go in client.id and client.secret',
    );
  }
  if (introspectionUri !== undefined && !isHttpUrl(introspectionUri)) {
    problems.push('client.introspectionUri must be an http(s) URL');
  }
  if (scope !== undefined && !(typeof scope === 'string' && SCOPE.test(scope))) {
    problems.push('client.scope must be scope names separated by single spaces, e.g. "notes:read"');
  }
  if (audience !== undefined && !(typeof audience === 'string' && audience.trim() !== '')) {
    problems.push('client.audience must be the id of the service the token is for');
  }
  return {
    id,
    secret,
    tokenUri: tokenUri ?? `${issuer}/oauth/token`,
    introspectionUri: introspectionUri ?? `${issuer}/oauth/introspect`,
    ...(scope !== undefined && { scope }),
    ...(audience !== undefined && { audience }),
  };
}

function checkCredential(problems: string[], name: string, value: unknown) {
  if (typeof value !== 'string' || value.trim() === '') {
    problems.push(`${name} must be a non-empty string`);
  } else if (value.trim() !== value) {
    // A secret read from a file or an env line often ends in a newline the issuer never saw.
    problems.push(`${name} must not begin or end with whitespace`);
  }
}

function isNatsUrl(value: string): boolean {
  try {
    return ['nats:', 'tls:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function hasUserInfo(url: string): boolean {
  const { username, password } = new URL(url);
  return username !== '' || password !== '';
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
