import { createTestApplication, describeApiDocs } from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import type { SecurityRequirementObject } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { authServiceConfig } from './config/auth-service.config';

let service: TestApplication;

beforeAll(async () => {
  // NODE_ENV=test: the docs are on, as in development.
  service = await createTestApplication(AppModule, authServiceConfig);
});
afterAll(() => service.close());

/** A client authenticates with `Authorization: Basic` or in the form (or is public). */
const CLIENT: SecurityRequirementObject[] = [{ clientBasic: [] }, {}];

describeApiDocs({
  service: 'auth-service',
  target: () => service,
  errors: {
    'POST /auth/register': [409, 415, 429, 503],
    'POST /auth/login': [401, 403, 415, 429, 503],
    'POST /auth/refresh': [401, 403, 415, 503],
    'POST /auth/logout': [403, 415, 503],
    'POST /auth/logout-all': [403, 503],
    'GET /auth/sessions': [503],
    'DELETE /auth/sessions/{id}': [404, 503],
    'POST /auth/password': [403, 415, 429, 503],
    'POST /admin/keys/rotate': [403, 503],
    'POST /admin/users/{id}/disable': [403, 404, 503],
    'GET /.well-known/jwks.json': [503],
    'POST /oauth/token': [503],
    'POST /oauth/revoke': [503],
    'POST /oauth/introspect': [503],
    'GET /userinfo': [403, 404, 503],
    'GET /health/ready': [503],
    'POST /auth/login/second-factor': [401, 403, 415, 429, 503],
    'POST /auth/login/passkey-options': [401, 415, 429, 503],
    'POST /auth/login/passkey': [401, 403, 415, 503],
    'GET /auth/mfa': [503],
    'POST /auth/mfa/totp': [409, 503],
    'POST /auth/mfa/totp/confirm': [409, 415, 429, 503],
    'DELETE /auth/mfa/totp': [409, 503],
    'POST /auth/mfa/recovery-codes': [503],
    'POST /auth/passkeys/registration-options': [503],
    'POST /auth/passkeys': [415, 503],
    'GET /auth/passkeys': [503],
    'PATCH /auth/passkeys/{id}': [404, 415, 503],
    'DELETE /auth/passkeys/{id}': [404, 503],
    'POST /auth/email/verify': [415, 429, 503],
    'POST /auth/email/verification': [415, 429, 503],
    'POST /auth/password/forgot': [415, 429, 503],
    'POST /auth/password/reset': [415, 429, 503],
    'POST /auth/email/change': [409, 415, 429, 503],
    'POST /auth/email/change/confirm': [409, 415, 503],
    'POST /auth/email/change/undo': [409, 415, 503],
  },
  // The hosted pages (apps/auth-service/src/pages): HTML and redirects for browsers.
  browserRoutes: [
    'GET /oauth/authorize',
    'GET /oauth/end_session',
    'POST /oauth/end_session',
    'GET /signin',
    'POST /signin',
    'GET /signin/second-factor',
    'POST /signin/second-factor',
    'POST /signin/passkey',
    'POST /signin/passkey-options',
    'GET /signin/passkeys.js',
    'GET /signup',
    'POST /signup',
    'GET /consent',
    'POST /consent',
    'GET /pages.css',
    'GET /account/forgot-password',
    'POST /account/forgot-password',
    'GET /account/reset-password',
    'POST /account/reset-password',
    'GET /account/verify-email',
    'POST /account/verify-email',
    'GET /account/confirm-email-change',
    'POST /account/confirm-email-change',
    'GET /account/undo-email-change',
    'POST /account/undo-email-change',
  ],
  ownSecurity: {
    'POST /oauth/token': CLIENT,
    'POST /oauth/revoke': CLIENT,
    'POST /oauth/introspect': [...CLIENT, { bearer: ['tokens:introspect'] }],
  },
  // RFC 6749 §5.2 on the OAuth endpoints; Fastify's 413 (before the route) and a 5xx (the global
  // filter's) are in the house shape there too.
  errorSchemaOf: (route, status) =>
    route.startsWith('POST /oauth/') && status < 500 && status !== 413
      ? 'OAuthErrorResponse'
      : undefined,
});
