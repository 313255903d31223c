import { HttpException, HttpStatus } from '@nestjs/common';
import type { RateLimitPluginOptions } from '@fastify/rate-limit';
import type { Principal } from '@tessera/auth-token';
import type { FastifyRequest } from 'fastify';

/**
 * Who a request counts against: a caller whose token the edge verified is its issuer, subject
 * and client (a user in two apps has two budgets, a service token its own), so that callers
 * behind one address (an office, a mobile carrier) do not share one; anyone else is their
 * address as the gateway judged it. The subject comes from a verified token only: a key taken
 * from an unverified one would let anybody spend someone else's budget.
 */
export function callerKey(request: FastifyRequest): string {
  const principal = (request as FastifyRequest & { user: Principal | null }).user;
  return principal
    ? `token ${principal.issuer} ${principal.subject} ${principal.clientId}`
    : `address ${request.ip}`;
}

/**
 * @fastify/rate-limit's options for the whole gateway: nothing is limited until a route asks for
 * its own budget (edge-proxy.ts); the IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-
 * headers, as the plugin's `enableDraftSpec` writes them: RateLimit-Limit, -Remaining, -Reset)
 * and Retry-After; over budget, 429 in the house error shape, through Nest's exception filter.
 */
export function rateLimitOptions(windowSeconds: number): RateLimitPluginOptions {
  return {
    global: false,
    hook: 'preHandler',
    timeWindow: windowSeconds * 1000,
    keyGenerator: callerKey,
    enableDraftSpec: true,
    errorResponseBuilder: (_request, context) =>
      new HttpException(
        `Too many requests; try again in ${context.after}`,
        HttpStatus.TOO_MANY_REQUESTS,
      ),
  };
}
