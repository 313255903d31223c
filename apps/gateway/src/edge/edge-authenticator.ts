import { Injectable } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { insufficientScope, invalidBearerToken, JwtAuthGuard } from '@tessera/auth-resource-server';
import type { Principal } from '@tessera/auth-token';
import type { FastifyReply, FastifyRequest } from 'fastify';
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
 * business.
 */
@Injectable()
export class EdgeAuthenticator {
  constructor(private readonly guard: JwtAuthGuard) {}

  async authenticate(
    request: FastifyRequest,
    reply: FastifyReply,
    route: GatewayRoute,
  ): Promise<void> {
    if (route.access === 'public') {
      await this.identify(request, reply);
      return;
    }
    const principal = await this.verify(request, reply);
    if (!principal.audiences.includes(route.audience)) throw invalidBearerToken();
    if (!route.scopes.every((scope) => principal.scopes.includes(scope))) {
      throw insufficientScope({ scopes: route.scopes });
    }
  }

  /** The caller of a public route when it sent a token that verifies; else nobody. */
  private async identify(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (request.headers.authorization === undefined) return;
    try {
      await this.verify(request, reply);
    } catch {
      (request as EdgeRequest).user = null;
    }
  }

  private async verify(request: FastifyRequest, reply: FastifyReply): Promise<Principal> {
    const context = new ExecutionContextHost([request, reply], ProxiedRoute, proxied);
    await this.guard.canActivate(context);
    const principal = (request as EdgeRequest).user;
    // The guard admits with a principal or throws; a null here would be a bug, never a pass.
    if (!principal) throw new Error('The guard admitted a request without a principal');
    return principal;
  }
}
