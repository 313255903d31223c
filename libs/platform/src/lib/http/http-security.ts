import helmet from '@fastify/helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ServiceEnvironment } from '../config/service-environment';

/**
 * Security headers on every response (O4), through @fastify/helmet: `nosniff`, HSTS, no framing,
 * no referrer, a `default-src 'none'` content policy (these services answer JSON, never pages),
 * and no `X-Powered-By`. CORS only for the origins in CORS_ORIGINS, exactly; without any, no
 * CORS header is ever sent and browsers refuse cross-origin calls.
 */
export async function configureHttpSecurity(
  app: NestFastifyApplication,
  environment: ServiceEnvironment,
): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'same-site' },
    referrerPolicy: { policy: 'no-referrer' },
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
