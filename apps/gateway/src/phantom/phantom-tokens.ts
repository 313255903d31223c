import { Logger, ServiceUnavailableException } from '@nestjs/common';
import type { ServiceTokenProvider } from '@tessera/auth-client';
import { PhantomTokenCache } from './phantom-token-cache';

/**
 * The shape of auth-service's reference tokens (its `generateOpaqueToken`: 256 random bits as 43
 * base64url characters). Anything else is not asked about: garbage costs auth-service nothing.
 */
const REFERENCE_TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** A JWS in compact serialization (RFC 7515 §7.1), signed or not: three base64url parts. */
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** The media type that asks `/oauth/introspect` for the JWT itself (Curity's phantom tokens). */
const JWT_MEDIA_TYPE = 'application/jwt';
const RETRY_AFTER_SECONDS = '5';

export interface PhantomTokensOptions {
  /** auth-service's `POST /oauth/introspect`. */
  introspectionUri: string;
  /** Milliseconds one introspection may take. */
  timeoutMs: number;
  /**
   * Introspections in flight at most (default 256). Past it a new reference gets 503: a flood of
   * made-up references costs auth-service no more than this many lookups at a time.
   */
  maxInFlight?: number;
}

/**
 * Phantom tokens at the edge (docs/adr/0012-gateway-at-the-edge.md): swaps a client's reference
 * token for the JWT it stands for at one audience (the service the route goes to), asking
 * auth-service once per reference and audience (the `gateway` client's service token, with
 * `tokens:phantom`, `Accept: application/jwt` and `audience`) and then answering from
 * PhantomTokenCache until that JWT expires (auth-service signs it for 60 s at most). Requests for
 * one reference and audience that arrive while it is being asked about share the one answer.
 */
export class PhantomTokens {
  private readonly logger = new Logger(PhantomTokens.name);
  private readonly pending = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly options: PhantomTokensOptions,
    private readonly serviceToken: ServiceTokenProvider,
    readonly cache = new PhantomTokenCache(),
  ) {}

  /** Whether `token` has the shape of a reference token (else it is not asked about). */
  isReference(token: string): boolean {
    return REFERENCE_TOKEN.test(token);
  }

  /**
   * Whether `token` has the shape of a JWT. In this mode clients only ever receive references, so
   * a JWT from outside leaked from behind the edge (the JWT a service was forwarded): refused.
   */
  isJwt(token: string): boolean {
    return JWT.test(token);
  }

  /**
   * Whether swapping `token` for `audience` would ask auth-service: a reference the gateway holds
   * no answer for (a made-up one, or one new to it) and is not asking about already.
   */
  wouldAsk(token: string, audience: string): boolean {
    if (!REFERENCE_TOKEN.test(token)) return false;
    const key = cacheKey(token, audience);
    return this.cache.get(key) === undefined && !this.pending.has(key);
  }

  /**
   * The JWT of a live reference token for `audience` (its `aud` only that service); undefined for
   * a token that is not a reference, or one auth-service calls inactive (unknown, expired, its
   * session ended, not issued for `audience`).
   *
   * @throws ServiceUnavailableException (503, Retry-After) when auth-service cannot answer
   */
  async jwtFor(token: string, audience: string): Promise<string | undefined> {
    if (!REFERENCE_TOKEN.test(token)) return undefined;
    const key = cacheKey(token, audience);
    const known = this.cache.get(key);
    if (known) return 'jwt' in known ? known.jwt : undefined;
    let asking = this.pending.get(key);
    if (!asking) {
      if (this.pending.size >= (this.options.maxInFlight ?? 256)) {
        throw this.unavailable('too many reference tokens are being checked at once');
      }
      asking = this.introspect(token, audience, key).finally(() => this.pending.delete(key));
      this.pending.set(key, asking);
    }
    return asking;
  }

  /**
   * The edge's guard refused the JWT of `token` for `audience` (the revocation feed ended its
   * session, or it expired): every swap of that session is forgotten, at every audience, so none
   * is forwarded again.
   */
  refused(token: string, audience: string): void {
    const key = cacheKey(token, audience);
    const sessionId = this.cache.sessionOf(key);
    this.cache.forget(key);
    if (sessionId !== undefined) this.cache.forgetSession(sessionId);
  }

  private async introspect(
    token: string,
    audience: string,
    key: string,
  ): Promise<string | undefined> {
    let response: Response;
    try {
      response = await fetch(this.options.introspectionUri, {
        method: 'POST',
        headers: {
          accept: JWT_MEDIA_TYPE,
          authorization: await this.serviceToken.authorization(),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token, audience }).toString(),
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      throw this.unavailable(error instanceof Error ? error.message : String(error));
    }
    const type = response.headers.get('content-type') ?? '';
    const body = await response.text().catch(() => '');
    if (response.status !== 200) throw this.unavailable(`it answered HTTP ${response.status}`);
    if (type.startsWith(JWT_MEDIA_TYPE)) {
      this.cache.remember(key, body);
      return body;
    }
    // RFC 7662's answer for anything that is not live: `{ "active": false }`.
    this.cache.rememberInactive(key);
    return undefined;
  }

  private unavailable(reason: string): ServiceUnavailableException {
    this.logger.warn(`Cannot swap a reference token at auth-service: ${reason}`);
    return Object.assign(
      new ServiceUnavailableException(
        'Cannot check your access token with auth-service right now; try again shortly',
      ),
      { headers: { 'retry-after': RETRY_AFTER_SECONDS } },
    );
  }
}

/** One cache entry per reference and audience: a space is in neither (a reference is base64url). */
function cacheKey(token: string, audience: string): string {
  return `${audience} ${token}`;
}
