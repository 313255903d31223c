import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { apiDocsEnabled } from '../config/service-environment';
import type { HttpServiceEnvironment } from '../config/service-environment';
import { completeApiDocument } from './api-document';
import { applicationRoutes } from './route-access';

/** Swagger UI's page; the OpenAPI document is at `${API_DOCS_PATH}-json`. */
export const API_DOCS_PATH = '/docs';

/**
 * The one relaxed Content-Security-Policy, for Swagger UI's page and assets only: its own
 * scripts and styles (the page has inline styles), data: images, and calls to this origin (the
 * "Try it out" requests). Every other response keeps `default-src 'none'`.
 */
export const API_DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The service's OpenAPI document: every route with its request and response types, its security
 * (bearer with scopes, or none where `@Public()`) and its errors (see completeApiDocument).
 */
export function createApiDocument(app: NestFastifyApplication, title: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle(title)
    .setDescription(
      'Errors answer `{ statusCode, error, message, requestId }` (the OAuth endpoints answer RFC 6749 `{ error, error_description }`). ' +
        'To call a guarded route from this page: get a token with `POST /auth/login` at auth-service, then **Authorize** with its `access_token`.',
    )
    .build();
  const routes = new Map(applicationRoutes(app).map((route) => [route.operationId, route]));
  return completeApiDocument(SwaggerModule.createDocument(app, config), (operationId) =>
    routes.get(operationId),
  );
}

/**
 * Serves Swagger UI at `/docs` and the document at `/docs-json` when API_DOCS allows (on by
 * default, off by default in production). Call it before `app.init()`, after the security headers.
 * The document is built on the first request for it, not at start-up: scanning every route's
 * metadata is start-up time that most starts never use (docs/performance.md, "Start-up and memory").
 */
export function configureApiDocs(
  app: NestFastifyApplication,
  environment: HttpServiceEnvironment,
  title: string,
): void {
  if (!apiDocsEnabled(environment)) return;
  // Nest's useStaticAssets (in SwaggerModule.setup) loads @fastify/static to serve Swagger UI's
  // assets. Named here so that each service's pruned dist/package.json (generatePackageJson) lists
  // it, and loaded only when the docs are served: with its glob dependency it took 10 MB of
  // resident memory in every production start (docs/performance.md, "Start-up and memory").
  void import('@fastify/static');
  SwaggerModule.setup(API_DOCS_PATH, app, () => createApiDocument(app, title), {
    raw: ['json'],
    customSiteTitle: `${title} API`,
    // No call to the public validator: the policy above would refuse it anyway.
    swaggerOptions: { validatorUrl: null, persistAuthorization: false },
  });
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      if (isSwaggerUiPath(request.url)) {
        reply.header('content-security-policy', API_DOCS_CONTENT_SECURITY_POLICY);
      }
      done();
    });
}

function isSwaggerUiPath(url: string): boolean {
  const path = url.split('?', 1)[0] ?? '';
  return path === API_DOCS_PATH || path.startsWith(`${API_DOCS_PATH}/`);
}
