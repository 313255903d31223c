import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import {
  bearerTokenOf,
  insufficientScope,
  invalidBearerToken,
  JwtAuthGuard,
} from '@tessera/auth-resource-server';
import type { Principal } from '@tessera/auth-token';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PHANTOM_TOKENS } from '../phantom/phantom-tokens.provider';
import type { PhantomTokens } from '../phantom/phantom-tokens';
import type { GatewayRoute } from '../routes/route-table';

/** What the guard reads route metadata from: nothing is declared on either, so it asks a token. */
class ProxiedRoute {}
function proxied(): void {
  // Never called: the guard only reads its (empty) metadata.
}

type EdgeRequest = FastifyRequest & { user: Principal | null };

/**
 * The edge's check, in front of each proxied route: the same global guard every service runs
 * (`JwtAuthGuard` of `@tessera/auth-resource-server`: the token from the Authorization header,
 * the verification cache, the verifier, the revocation list the feed fills), then the route's
 * audience (401, as the service would answer a token that is not for it) and its scopes (403).
 * A `public` route only learns who calls, for the rate limit: a bad token there is the service's
 * business. In phantom-token mode a reference token is first swapped for its JWT (PhantomTokens),
 * which the guard then checks and the service receives in its place, and a JWT sent from outside
 * is refused on every route (clients only ever hold references in that mode).
 */
@Injectable()
export class EdgeAuthenticator {
  constructor(
    private readonly guard: JwtAuthGuard,
    @Inject(PHANTOM_TOKENS) private readonly phantom: PhantomTokens | null,
  ) {}

  async authenticate(
    request: FastifyRequest,
    reply: FastifyReply,
    route: GatewayRoute,
  ): Promise<void> {
    this.refuseJwtFromOutside(request);
    if (route.access === 'public') {
      await this.identify(request, reply, route);
      return;
    }
    const reference = await this.swapReference(request, route);
    if (reference === null) throw invalidBearerToken();
    const principal = await this.verify(request, reply, route, reference);
    if (!principal.audiences.includes(route.audience)) throw invalidBearerToken();
    if (!route.scopes.every((scope) => principal.scopes.includes(scope))) {
      throw insufficientScope({ scopes: route.scopes });
    }
  }

  /**
   * Whether this request would make the gateway ask auth-service about a reference (phantom-token
   * mode, a reference it holds no answer for). EdgeProxy counts such a request against the
   * caller's address before the swap, so that made-up references cannot flood auth-service.
   */
  wouldAskAboutReference(request: FastifyRequest, route: GatewayRoute): boolean {
    const token = this.phantom ? wellFormedTokenOf(request) : undefined;
    return token !== undefined && this.phantom?.wouldAsk(token, route.audience) === true;
  }

  /**
   * Phantom-token mode: outside clients only ever receive references, so a JWT at the edge leaked
   * from behind it (the JWT a service was forwarded, a service's own token). Refused on public
   * routes too, where the service behind would otherwise verify it as one of its own.
   */
  private refuseJwtFromOutside(request: FastifyRequest): void {
    const token = this.phantom ? wellFormedTokenOf(request) : undefined;
    if (token === undefined || !this.phantom?.isJwt(token)) return;
    throw Object.assign(
      new UnauthorizedException(
        'A JWT access token is not accepted here: send the reference token auth-service issued',
      ),
      {
        headers: {
          'www-authenticate':
            'Bearer error="invalid_token", error_description="A JWT access token is not accepted here; send a reference token"',
        },
      },
    );
  }

  /** The caller of a public route when it sent a token that verifies; else nobody. */
  private async identify(
    request: FastifyRequest,
    reply: FastifyReply,
    route: GatewayRoute,
  ): Promise<void> {
    if (request.headers.authorization === undefined) return;
    try {
      // A dead reference goes on as it came: the service refuses it as it refuses any non-JWT.
      const reference = await this.swapReference(request, route);
      await this.verify(request, reply, route, reference ?? undefined);
    } catch {
      (request as EdgeRequest).user = null;
    }
  }

  /**
   * Phantom-token mode: puts the JWT a reference token stands for in the Authorization header,
   * signed for the route's audience only (a service cannot replay it at another). Returns the
   * reference it replaced; undefined when there was nothing to swap (no reference, or the mode is
   * off); null for a reference auth-service calls inactive (at that audience too).
   */
  private async swapReference(
    request: FastifyRequest,
    route: GatewayRoute,
  ): Promise<string | null | undefined> {
    if (!this.phantom) return undefined;
    const token = bearerTokenOf(request);
    if (token === undefined || !this.phantom.isReference(token)) return undefined;
    const jwt = await this.phantom.jwtFor(token, route.audience);
    if (jwt === undefined) return null;
    request.headers.authorization = `Bearer ${jwt}`;
    return token;
  }

  private async verify(
    request: FastifyRequest,
    reply: FastifyReply,
    route: GatewayRoute,
    reference?: string,
  ): Promise<Principal> {
    const context = new ExecutionContextHost([request, reply], ProxiedRoute, proxied);
    try {
      await this.guard.canActivate(context);
    } catch (error) {
      if (reference !== undefined) this.phantom?.refused(reference, route.audience);
      throw error;
    }
    const principal = (request as EdgeRequest).user;
    // The guard admits with a principal or throws; a null here would be a bug, never a pass.
    if (!principal) throw new Error('The guard admitted a request without a principal');
    return principal;
  }
}

/** The request's bearer token; undefined when there is none or it is malformed (the guard says). */
function wellFormedTokenOf(request: FastifyRequest): string | undefined {
  try {
    return bearerTokenOf(request);
  } catch {
    return undefined;
  }
}
