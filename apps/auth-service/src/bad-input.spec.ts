import { createTestApplication, describeBadInput } from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import { randomBytes } from 'node:crypto';
import { AppModule } from './app.module';
import { authServiceConfig } from './config/auth-service.config';

let service: TestApplication;
const authorizations: string[] = [];
const secret = randomBytes(32).toString('base64url');

beforeAll(async () => {
  service = await createTestApplication(AppModule, authServiceConfig, {
    CLIENT_SECRETS: `resource-service=${secret}`,
    BODY_LIMIT: '32768',
  });
  const account = { email: 'fuzz@example.com', password: 'a long passphrase for fuzzing' };
  const post = (path: string, body: unknown) =>
    fetch(`${service.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  await post('/auth/register', account);
  const tokens = (await (await post('/auth/login', account)).json()) as { access_token: string };
  authorizations.push(
    `Bearer ${tokens.access_token}`,
    `Basic ${Buffer.from(`resource-service:${secret}`).toString('base64')}`,
  );
});
afterAll(() => service.close());

describeBadInput({
  service: 'auth-service',
  requests: 2500,
  target: () => ({
    url: service.url,
    bodyLimit: 32768,
    authorizations,
    endpoints: [
      { method: 'POST', path: '/auth/register', fields: ['email', 'password'] },
      { method: 'POST', path: '/auth/login', fields: ['email', 'password', 'scope'] },
      { method: 'POST', path: '/auth/refresh', fields: ['refresh_token'] },
      { method: 'POST', path: '/auth/logout', fields: ['refresh_token'] },
      { method: 'POST', path: '/auth/logout-all' },
      { method: 'GET', path: '/auth/sessions' },
      { method: 'DELETE', path: '/auth/sessions/:id' },
      { method: 'POST', path: '/auth/password', fields: ['current_password', 'new_password'] },
      { method: 'POST', path: '/admin/keys/rotate' },
      { method: 'POST', path: '/admin/users/:id/disable' },
      { method: 'POST', path: '/oauth/token' },
      { method: 'POST', path: '/oauth/revoke' },
      { method: 'POST', path: '/oauth/introspect' },
      { method: 'GET', path: '/userinfo' },
      { method: 'GET', path: '/revocations' },
      { method: 'GET', path: '/.well-known/jwks.json' },
      { method: 'GET', path: '/.well-known/openid-configuration' },
      { method: 'GET', path: '/health/live' },
      { method: 'GET', path: '/:id' },
    ],
  }),
});
