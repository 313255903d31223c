import { Injectable } from '@nestjs/common';
import type { OnModuleDestroy } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { AccessTokenVerifier, InvalidAccessTokenError } from '@tessera/auth-token';
import type { Principal, VerifiedAccessToken } from '@tessera/auth-token';
import type { FastifyRequest } from 'fastify';
import passport from 'passport';
import { Strategy } from 'passport-jwt';
import { bearerTokenOf, unvalidatedBearerTokenOf } from '../http/bearer-token';
import { VerificationCache } from './verification-cache';

/** The name JwtAuthGuard asks passport for. */
export const JWT_STRATEGY = 'tessera-jwt';

/**
 * passport-jwt's strategy, as Nest's documentation teaches it, with one change: the token is
 * verified by the AccessTokenVerifier every Tessera service shares, not by passport-jwt's own
 * jsonwebtoken call, so that every check (header, key, signature, `iss`, `aud`, `exp`, `nbf`) and
 * every refusal reason is the same in every service and in auth-service itself.
 *
 * Passport keeps strategies in one registry per process, by name, so a process holds one
 * AuthModule: when a second one starts, the first one's guard refuses to verify (a 500 that
 * names the cause) rather than verify with the other one's issuer and audience.
 */
@Injectable()
export class JwtStrategy
  extends PassportStrategy(Strategy, JWT_STRATEGY)
  implements OnModuleDestroy
{
  constructor(
    private readonly verifier: AccessTokenVerifier,
    private readonly cache: VerificationCache,
  ) {
    super({
      jwtFromRequest: (request: FastifyRequest) => bearerTokenOf(request) ?? null,
      // Never called: authenticate() verifies with AccessTokenVerifier instead of jsonwebtoken's defaults.
      secretOrKeyProvider: (_request: unknown, _token: unknown, done: (error: Error) => void) =>
        done(new Error('JwtStrategy verifies with AccessTokenVerifier')),
    });
  }

  /**
   * Called by passport once per request, on an object of its own whose `success`, `fail` and
   * `error` answer this request: the bearer token → AccessTokenVerifier → validate() → principal.
   */
  override authenticate(request: Parameters<Strategy['authenticate']>[0]): void {
    // Its syntax is the verifier's first check (readCompactJws, stricter than RFC 6750's
    // b64token): read once, not once more here.
    const token = unvalidatedBearerTokenOf(request as unknown as FastifyRequest);
    if (token === undefined) return this.fail(new InvalidAccessTokenError('malformed'), 401);
    this.verifier.verify(token).then(
      (verified) => this.success(this.validate(token, verified)),
      (error: Error) =>
        error instanceof InvalidAccessTokenError ? this.fail(error, 401) : this.error(error),
    );
  }

  /** The principal passport hands the guard; the verification is kept for the token's next use. */
  validate(token: string, verified: VerifiedAccessToken): Principal {
    this.cache.set(token, verified);
    return verified.principal;
  }

  /** Whether passport would call this strategy: false once another AuthModule has started. */
  get isRegistered(): boolean {
    return registeredStrategy() === this;
  }

  onModuleDestroy(): void {
    if (registeredStrategy() === this) passport.unuse(JWT_STRATEGY);
  }
}

/** passport's registry has no typed getter; `_strategy` is what `authenticate` itself reads. */
function registeredStrategy(): unknown {
  return (passport as unknown as { _strategy(name: string): unknown })._strategy(JWT_STRATEGY);
}
