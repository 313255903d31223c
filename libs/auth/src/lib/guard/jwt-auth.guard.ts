import { Injectable, Logger } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { IS_PUBLIC_KEY } from '@tessera/platform';
import type { FastifyRequest } from 'fastify';
import { ROLES_KEY, SCOPES_KEY } from '../decorators/requirements';
import { insufficientScope, invalidBearerToken } from '../http/bearer-challenge';
import { JwksClient } from '../jwks/jwks-client';
import { GuardMetrics, requireBearerToken } from '../metrics/guard-metrics';
import type { GuardRefusalReason } from '../metrics/guard-metrics';
import { readAccessTokenHeader } from '../tokens/access-token.format';
import { InvalidAccessTokenError } from '../tokens/invalid-access-token.error';
import type { Principal } from '../tokens/principal';
import { EXTRACTED_TOKEN, JwtStrategy } from './jwt.strategy';
import type { VerifiedAccessToken } from './jwt.strategy';
import type { RequestWithPrincipal } from './request-principal';
import { VerificationCache } from './verification-cache';
import type { CachedVerification } from './verification-cache';
import { RevocationList } from '../revocation/revocation-list';

interface RouteRequirements {
  isPublic: boolean;
  scopes: readonly string[];
  roles: readonly string[];
}

/** Where handleRequest leaves a fresh verification for canActivate. */
const VERIFIED = Symbol('tessera:verified');

type GuardedRequest = FastifyRequest &
  RequestWithPrincipal & { [EXTRACTED_TOKEN]?: string; [VERIFIED]?: CachedVerification };

/**
 * The global guard AuthModule installs: every HTTP route needs a valid access token unless it is
 * marked `@Public()`, and `@Scopes()` / `@Roles()` add what the token must carry. A token seen
 * before is answered from the VerificationCache; any other goes through passport-jwt.
 * Other transports (RPC, WebSockets) are refused: secure by default.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard() {
  private readonly logger = new Logger(JwtAuthGuard.name);
  /** Metadata read once per route, not per request. */
  private readonly requirements = new WeakMap<object, WeakMap<object, RouteRequirements>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly cache: VerificationCache,
    private readonly jwks: JwksClient,
    private readonly revocations: RevocationList,
    private readonly metrics: GuardMetrics,
    strategy: JwtStrategy,
  ) {
    // This module's own strategy (see JwtStrategy), not a process-wide default.
    super({ defaultStrategy: strategy.name });
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return false;
    const route = this.requirementsOf(context);
    if (route.isPublic) return true;
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    const token = requireBearerToken(request, this.metrics);
    let verified = this.cache.get(token, (kid) => this.jwks.has(kid));
    if (verified) {
      request.user = verified.principal;
    } else {
      request[EXTRACTED_TOKEN] = token;
      // passport-jwt verifies; handleRequest below turns its verdict into a principal or a 401.
      await super.canActivate(context);
      verified = request[VERIFIED] as CachedVerification;
    }
    // On every request, cached or not: a session revoked a moment ago ends here (R26).
    if (this.revocations.isRevoked(verified.principal, verified.iat)) {
      this.logger.debug('Access token refused: its session or user was revoked');
      this.metrics.refused('revoked');
      throw invalidBearerToken();
    }
    const { principal } = verified;
    if (!isAuthorized(principal, route)) {
      this.metrics.refused('insufficient_scope');
      throw insufficientScope({
        scopes: route.scopes,
        roles: route.roles.filter((role) => !principal.roles.includes(role)),
      });
    }
    return true;
  }

  /** passport's verdict: a principal (cached for the next request) or 401 `invalid_token`. */
  override handleRequest<TUser = Principal>(
    error: unknown,
    verified: VerifiedAccessToken | false,
    info: unknown,
    context: ExecutionContext,
  ): TUser {
    const refusal = error ?? info;
    if (refusal || !verified) {
      // An unexpected error (a bug, not a bad token) goes up as a 500, with its stack logged.
      if (error && !(error instanceof InvalidAccessTokenError)) throw error;
      this.logger.debug(`Access token refused: ${reasonOf(refusal)}`);
      this.metrics.refused(refusalReasonOf(refusal));
      throw invalidBearerToken();
    }
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    const token = request[EXTRACTED_TOKEN] as string;
    const entry = { principal: verified.principal, iat: verified.iat };
    this.cache.set(token, entry, verified.exp, readAccessTokenHeader(token).kid);
    request[VERIFIED] = entry;
    return verified.principal as TUser;
  }

  private requirementsOf(context: ExecutionContext): RouteRequirements {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byHandler = this.requirements.get(controller);
    if (!byHandler) this.requirements.set(controller, (byHandler = new WeakMap()));
    let route = byHandler.get(handler);
    if (!route) {
      const targets = [handler, controller];
      route = {
        isPublic: this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets) === true,
        scopes: this.reflector.getAllAndMerge<string[]>(SCOPES_KEY, targets) ?? [],
        roles: this.reflector.getAllAndMerge<string[]>(ROLES_KEY, targets) ?? [],
      };
      byHandler.set(handler, route);
    }
    return route;
  }
}

function isAuthorized(principal: Principal, route: RouteRequirements): boolean {
  // Most routes need one scope or none: loops without allocation, on every request.
  return (
    route.scopes.every((scope) => principal.scopes.includes(scope)) &&
    route.roles.every((role) => principal.roles.includes(role))
  );
}

/** The metrics label of a refusal: the verifier's own reason, or jsonwebtoken's error by name. */
function refusalReasonOf(refusal: unknown): GuardRefusalReason {
  if (refusal instanceof InvalidAccessTokenError) return refusal.reason;
  if (!(refusal instanceof Error)) return 'malformed';
  if (refusal.name === 'TokenExpiredError') return 'expired';
  if (refusal.name === 'NotBeforeError') return 'not_yet_valid';
  if (refusal.message.startsWith('jwt audience invalid')) return 'audience';
  if (refusal.message.startsWith('jwt issuer invalid')) return 'issuer';
  if (refusal.message === 'jwt malformed') return 'malformed';
  return 'signature';
}

function reasonOf(refusal: unknown): string {
  if (refusal instanceof Error) return `${refusal.name}: ${refusal.message}`;
  return String(refusal ?? 'no principal');
}
