import { Inject, Injectable } from '@nestjs/common';
import type { OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import passport from 'passport';
import { Strategy } from 'passport-jwt';
import type { ResolvedAuthOptions } from '../auth-module.options';
import { RESOLVED_AUTH_OPTIONS } from '../auth.module-definition';
import { JwksClient } from '../jwks/jwks-client';
import { readAccessTokenClaims, readAccessTokenHeader } from '../tokens/access-token.format';
import { InvalidAccessTokenError } from '../tokens/invalid-access-token.error';
import { principalOf } from '../tokens/principal';
import type { Principal } from '../tokens/principal';

/** Where JwtAuthGuard leaves the token it extracted, so passport reads exactly that one. */
export const EXTRACTED_TOKEN = Symbol('tessera:extracted-token');

/** What a full verification yields: the caller, and its `exp` and `iat` for the cache. */
export interface VerifiedAccessToken {
  principal: Principal;
  exp: number;
  iat: number;
}

/**
 * passport-jwt, configured so that nothing is left to jsonwebtoken's defaults: the header is
 * checked before any key is looked up (alg allowlist, `typ: at+jwt`, no `crit`, a plain `kid`),
 * the key comes from the issuer's JWKS only and its algorithm must be the header's, `iss` and
 * `aud` are pinned, `exp` and the RFC 9068 claims are required. jsonwebtoken gets a KeyObject,
 * never a PEM string, so nothing is parsed again per request.
 *
 * Passport keeps strategies in one registry per process, by name. Each AuthModule registers its
 * strategy under a name of its own (and removes it on shutdown), so two applications in one
 * process, each trusting another issuer, never verify with each other's settings.
 */
@Injectable()
export class JwtStrategy implements OnModuleDestroy {
  readonly name = `tessera-jwt:${randomUUID()}`;

  constructor(@Inject(RESOLVED_AUTH_OPTIONS) options: ResolvedAuthOptions, jwks: JwksClient) {
    const strategy = new Strategy(
      {
        jwtFromRequest: (request: { [EXTRACTED_TOKEN]?: string }) =>
          request[EXTRACTED_TOKEN] ?? null,
        secretOrKeyProvider: (
          _request: unknown,
          token: string,
          done: (error: Error | null, key?: string | Buffer) => void,
        ) => {
          let header: ReturnType<typeof readAccessTokenHeader>;
          try {
            header = readAccessTokenHeader(token, options.algorithms);
          } catch (error) {
            return done(error as Error);
          }
          jwks.key(header.kid).then((key) => {
            if (!key) return done(new InvalidAccessTokenError('unknown_key'));
            // One algorithm per key (RFC 8725 §3.1): the header cannot pick another for this key.
            if (key.alg !== header.alg) return done(new InvalidAccessTokenError('algorithm'));
            // Typed string | Buffer, but handed to jsonwebtoken 9 untouched, which uses a KeyObject
            // as is instead of parsing a PEM again on every call.
            done(null, key.key as unknown as Buffer);
          }, done);
        },
        algorithms: [...options.algorithms],
        issuer: options.issuer,
        audience: options.audience,
        jsonWebTokenOptions: { clockTolerance: options.clockTolerance },
      },
      (payload: unknown, done: (error: unknown, verified?: VerifiedAccessToken) => void) => {
        try {
          done(null, this.validate(payload));
        } catch (error) {
          done(error);
        }
      },
    );
    passport.use(this.name, strategy);
  }

  /** Called with the payload once the signature, `iss`, `aud`, `exp` and `nbf` have passed. */
  validate(payload: unknown): VerifiedAccessToken {
    const claims = readAccessTokenClaims(payload);
    return { principal: principalOf(claims), exp: claims.exp, iat: claims.iat };
  }

  onModuleDestroy(): void {
    passport.unuse(this.name);
  }
}
