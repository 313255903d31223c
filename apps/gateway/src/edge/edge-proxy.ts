import { BadGatewayException, GatewayTimeoutException, Inject, Injectable } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import httpProxy from '@fastify/http-proxy';
import type { FastifyHttpProxyOptions } from '@fastify/http-proxy';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { gatewayConfig, namedUpstreams } from '../config/gateway.config';
import { upstreamUrls } from '../routes/route-table';
import type { GatewayRoute, RouteTable } from '../routes/route-table';
import { rateLimitOptions } from './caller-rate-limit';
import { EdgeAuthenticator } from './edge-authenticator';
import { forwardedRequestHeaders, forwardedResponseHeaders } from './forwarded-headers';

/** The route table the gateway runs, provided by GatewayModule. */
export const ROUTE_TABLE = Symbol('ROUTE_TABLE');

/**
 * Registers, for each row of the route table, an @fastify/http-proxy route on the Nest
 * application's Fastify instance, with what runs before it is forwarded: the edge's token check
 * (EdgeAuthenticator), then the caller's budget for that row (@fastify/rate-limit). Bodies are
 * read whole, up to BODY_LIMIT (413 beyond), before anything reaches a service; headers are
 * rewritten once, both ways (forwarded-headers.ts).
 */
@Injectable()
export class EdgeProxy implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(gatewayConfig.KEY) private readonly environment: ConfigType<typeof gatewayConfig>,
    @Inject(ROUTE_TABLE) private readonly table: RouteTable,
    private readonly authenticator: EdgeAuthenticator,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    void fastify.register(rateLimit, rateLimitOptions(this.environment.RATE_LIMIT_WINDOW));
    void fastify.register(async (proxies) => {
      // Every body is read here, whatever its type, and forwarded as the bytes that came.
      proxies.removeAllContentTypeParsers();
      proxies.addContentTypeParser(
        '*',
        { parseAs: 'buffer', bodyLimit: this.environment.BODY_LIMIT },
        (_request, body, done) => done(null, body),
      );
      const upstreams = upstreamUrls(
        this.table,
        this.environment.UPSTREAM_URL_TEMPLATE,
        namedUpstreams(this.environment),
      );
      for (const route of this.table.routes) {
        await proxies.register(httpProxy, this.proxyOptions(proxies, route, upstreams));
      }
    });
  }

  private proxyOptions(
    proxies: FastifyInstance,
    route: GatewayRoute,
    upstreams: ReadonlyMap<string, string>,
  ): FastifyHttpProxyOptions {
    const timeout = this.environment.UPSTREAM_TIMEOUT;
    // One budget per row, shared by the prefix and everything under it.
    const limit = proxies.rateLimit({ max: route.rateLimit ?? this.environment.RATE_LIMIT_MAX });
    return {
      upstream: upstreams.get(route.service) as string,
      prefix: route.prefix,
      rewritePrefix: route.path,
      proxyPayloads: false,
      undici: { headersTimeout: timeout, bodyTimeout: timeout },
      // The token first: a budget is keyed by the verified caller (caller-rate-limit.ts). But a
      // reference the gateway must ask auth-service about is counted against the caller's address
      // before it asks, as an anonymous request is: a flood of made-up references gets 429, not
      // one introspection each. (The limit runs once per request: after it, the second is a no-op.)
      preHandler: async (request: FastifyRequest, reply: FastifyReply) => {
        if (this.authenticator.wouldAskAboutReference(request, route)) {
          await limit.call(proxies, request, reply);
        }
        await this.authenticator.authenticate(request, reply, route);
        await limit.call(proxies, request, reply);
      },
      handler: (
        request: FastifyRequest,
        reply: FastifyReply,
        destination: string,
        options: object,
      ) => reply.from(destination, { ...options, ...bodyOf(request) }),
      replyOptions: {
        rewriteRequestHeaders: (request, headers) =>
          forwardedRequestHeaders(headers, {
            ip: request.ip,
            protocol: request.protocol,
            host: request.host,
            id: request.id,
          }),
        rewriteHeaders: (headers) => forwardedResponseHeaders(headers),
        onError: (reply, { error }) => {
          reply.send(
            (error as { statusCode?: number }).statusCode === 504
              ? new GatewayTimeoutException('The service behind this route did not answer in time')
              : new BadGatewayException('The service behind this route is unavailable'),
          );
        },
      },
    };
  }
}

/** The body read by the gateway, sent on as it came; none for a request without one. */
function bodyOf(request: FastifyRequest): { body?: Buffer; contentType?: string } {
  if (!Buffer.isBuffer(request.body)) return {};
  return {
    body: request.body,
    contentType: request.headers['content-type'] ?? 'application/octet-stream',
  };
}
