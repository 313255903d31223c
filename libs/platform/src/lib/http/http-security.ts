import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { HttpServiceEnvironment } from '../config/service-environment';

/**
 * The headers helmet sends by default, fixed for a JSON API (O4): no content may load
 * (`default-src 'none'`), no framing, no referrer, HSTS, `nosniff`. They are constants, set by
 * one hook: @fastify/helmet computes them per request, which halved the throughput of a small
 * route in `npm run bench`.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-site',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
});

/**
 * Security headers on every response, errors included, and CORS only for the origins in
 * CORS_ORIGINS, exactly (Nest's own `enableCors`, on @fastify/cors). Without any origin no CORS
 * header is ever sent, and browsers refuse cross-origin calls.
 */
export function configureHttpSecurity(
  app: NestFastifyApplication,
  environment: HttpServiceEnvironment,
): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (_request, reply, done) => {
      reply.headers(SECURITY_HEADERS);
      done();
    });
  if (environment.CORS_ORIGINS.length > 0) {
    app.enableCors({
      origin: environment.CORS_ORIGINS,
      // Configured origins are the service's own front ends: they may send cookies (the
      // refresh-token cookie mode) and the headers Tessera reads.
      credentials: true,
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'x-request-id', 'x-tessera-csrf'],
      exposedHeaders: ['x-request-id', 'www-authenticate', 'retry-after'],
      maxAge: 600,
    });
  }
}
