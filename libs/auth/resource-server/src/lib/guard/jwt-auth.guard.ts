import { HttpException, Inject, Injectable, Logger } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import {
  AccessTokenVerifier,
  InvalidAccessTokenError,
  IS_PUBLIC_KEY,
  ROLES_KEY,
  satisfiesAuthentication,
  SCOPES_KEY,
} from '@tessera/auth-token';
import type {
  AuthenticationRequirement,
  Principal,
  VerificationKeySource,
} from '@tessera/auth-token';
import type { FastifyRequest } from 'fastify';
import type { ResolvedAuthOptions } from '../auth-module.options';
import { RESOLVED_AUTH_OPTIONS, VERIFICATION_KEYS } from '../auth.module-definition';
import { AUTHENTICATION_REQUIREMENT_KEY } from '../decorators/require-authentication.decorator';
import { VERIFIED_EMAIL_KEY } from '../decorators/require-verified-email.decorator';
import {
  emailNotVerified,
  insufficientScope,
  insufficientUserAuthentication,
  invalidBearerToken,
  missingBearerToken,
} from '../http/bearer-challenge';
import { GuardMetrics, requireBearerToken } from '../metrics/guard-metrics';
import { RevocationList } from '../revocation/revocation-list';
import { messageBearerTokenOf, setMessagePrincipal, toRpcException } from '../rpc/message-token';
import { JWT_STRATEGY, JwtStrategy } from './jwt.strategy';
import { VerificationCache } from './verification-cache';

interface RouteRequirements {
  isPublic: boolean;
  scopes: readonly string[];
  roles: readonly string[];
  /** `@RequireAuthentication()`: what the sign-in behind the token must meet (RFC 9470). */
  authentication: AuthenticationRequirement | undefined;
  /** `@RequireVerifiedEmail()`: the token must say `email_verified: true`. */
  verifiedEmail: boolean;
}

/**
 * The global guard AuthModule installs in every Tessera service, auth-service included: every
 * HTTP route needs a valid access token for this service unless it is marked `@Public()`, and
 * `@Scopes()` / `@Roles()` add what the token must carry, `@RequireAuthentication()` how strong and
 * recent its sign-in must be (RFC 9470). Message handlers (`@MessagePattern`, `@EventPattern`, over
 * NATS) are guarded the same way: the token travels in the message's `authorization` header and a
 * refusal is an RpcException with the HTTP answer's status and code. Other transports are refused:
 * secure by default.
 *
 * The path of a token, read forward: canActivate → (a token seen before: the VerificationCache)
 * or passport → JwtStrategy.authenticate → AccessTokenVerifier.verify → JwtStrategy.validate →
 * handleRequest → admit (revocations, the session check, the route's requirements) → principal,
 * which passport sets as `request.user` for `@CurrentPrincipal()`.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard(JWT_STRATEGY) {
  private readonly logger = new Logger(JwtAuthGuard.name);
  /** Metadata read once per route, not per request. */
  private readonly requirements = new WeakMap<object, WeakMap<object, RouteRequirements>>();
  /** Made once: the cache asks them on every request. */
  private readonly isUnexpired = (expiresAt: number) => this.verifier.isUnexpired(expiresAt);
  private readonly isPublished = (kid: string) => this.keys.has(kid);

  constructor(
    private readonly reflector: Reflector,
    private readonly cache: VerificationCache,
    private readonly verifier: AccessTokenVerifier,
    @Inject(VERIFICATION_KEYS) private readonly keys: VerificationKeySource,
    private readonly revocations: RevocationList,
    private readonly metrics: GuardMetrics,
    @Inject(RESOLVED_AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
    private readonly strategy: JwtStrategy,
  ) {
    super();
  }

  override canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const type = context.getType();
    if (type === 'rpc') return this.canActivateMessage(context);
    if (type !== 'http') return false;
    const route = this.requirementsOf(context);
    if (route.isPublic) return true;
    // The HTTP request is the handler's first argument. Not `switchToHttp().getRequest()`, which
    // assigns three new closures to the context on every call.
    const request = context.getArgByIndex<FastifyRequest & { user?: Principal }>(0);
    const token = requireBearerToken(request, this.metrics);
    // A reused token (the normal case) costs a map lookup, not a signature check, and (but for
    // auth-service's session check) not a promise either. The cache holds verified tokens alone;
    // any other string goes to passport, where the verifier reads its syntax (a malformed token
    // is refused there, counted as `malformed`).
    const cached = this.cache.get(token, this.isUnexpired, this.isPublished);
    if (!cached) return this.verifyThroughPassport(context);
    const admitted = this.admit(cached.principal, route);
    if (admitted instanceof Promise) {
      return admitted.then((principal) => {
        request.user = principal;
        return true;
      });
    }
    request.user = admitted;
    return true;
  }

  private async verifyThroughPassport(context: ExecutionContext): Promise<boolean> {
    if (!this.strategy.isRegistered) {
      throw new Error(
        'Another AuthModule started in this process and took over passport; one AuthModule per process',
      );
    }
    return (await super.canActivate(context)) as boolean;
  }

  /**
   * A message handler: the same verification, cache, revocation list and requirements as a route,
   * without passport (there is no HTTP request); the principal is kept for `@CurrentPrincipal()`.
   */
  private async canActivateMessage(context: ExecutionContext): Promise<boolean> {
    const route = this.requirementsOf(context);
    if (route.isPublic) return true;
    const message = context.switchToRpc().getContext<object>();
    try {
      const principal = await this.admit(await this.verifyMessageToken(message), route);
      setMessagePrincipal(message, principal);
      return true;
    } catch (error) {
      throw error instanceof HttpException ? toRpcException(error) : error;
    }
  }

  private async verifyMessageToken(message: object): Promise<Principal> {
    let token: string | undefined;
    try {
      token = messageBearerTokenOf(message);
    } catch (error) {
      this.metrics.refused('ambiguous_token');
      throw error;
    }
    if (token === undefined) {
      this.metrics.refused('missing_token');
      throw missingBearerToken();
    }
    const cached = this.cache.get(token, this.isUnexpired, this.isPublished);
    if (cached) return cached.principal;
    try {
      return this.strategy.validate(token, await this.verifier.verify(token));
    } catch (error) {
      if (!(error instanceof InvalidAccessTokenError)) throw error;
      this.logger.debug(`Access token of a message refused (${error.reason})`);
      this.metrics.refused(error.reason);
      throw invalidBearerToken();
    }
  }

  /** passport's verdict: a principal, admitted to this route, or 401 `invalid_token`. */
  override handleRequest<TUser = Principal>(
    error: unknown,
    principal: Principal | false,
    refusal: unknown,
    context: ExecutionContext,
  ): TUser {
    // An unexpected error (a bug, not a bad token) goes up as a 500, with its stack logged.
    if (error) throw error;
    if (!principal) {
      const reason = refusal instanceof InvalidAccessTokenError ? refusal.reason : 'malformed';
      this.logger.debug(`Access token refused (${reason})`);
      this.metrics.refused(reason);
      throw invalidBearerToken();
    }
    // passport resolves with what this returns, a promise included.
    return this.admit(principal, this.requirementsOf(context)) as TUser;
  }

  /**
   * On every request, cached or not: a session revoked a moment ago ends here (the revocation
   * list, and in auth-service the session check), then the route's scopes and roles (403 when
   * one is missing).
   */
  private admit(principal: Principal, route: RouteRequirements): Principal | Promise<Principal> {
    if (this.revocations.isRevoked(principal)) this.refuseRevoked();
    const isSessionActive = this.options.isSessionActive;
    if (isSessionActive === undefined || principal.kind !== 'user') {
      return this.authorize(principal, route);
    }
    return isSessionActive(principal).then((active) => {
      if (!active) this.refuseRevoked();
      return this.authorize(principal, route);
    });
  }

  private refuseRevoked(): never {
    this.logger.debug('Access token refused: its session or user was revoked');
    this.metrics.refused('revoked');
    throw invalidBearerToken();
  }

  private authorize(principal: Principal, route: RouteRequirements): Principal {
    if (!isAuthorized(principal, route)) {
      this.metrics.refused('insufficient_scope');
      throw insufficientScope({
        scopes: route.scopes,
        roles: route.roles.filter((role) => !principal.roles.includes(role)),
      });
    }
    const needed = route.authentication;
    if (needed && !satisfiesAuthentication(principal, needed, this.verifier.nowSeconds())) {
      this.metrics.refused('insufficient_user_authentication');
      throw insufficientUserAuthentication(needed);
    }
    if (route.verifiedEmail && !principal.emailVerified) {
      this.metrics.refused('email_not_verified');
      throw emailNotVerified();
    }
    return principal;
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
        authentication: this.reflector.getAllAndOverride<AuthenticationRequirement>(
          AUTHENTICATION_REQUIREMENT_KEY,
          targets,
        ),
        verifiedEmail:
          this.reflector.getAllAndOverride<boolean>(VERIFIED_EMAIL_KEY, targets) === true,
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
