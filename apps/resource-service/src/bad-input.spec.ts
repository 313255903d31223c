import { TestIssuer } from '@tessera/auth-testing';
import { createTestApplication, describeBadInput } from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import { randomBytes } from 'node:crypto';
import { AppModule } from './app.module';
import { resourceServiceConfig } from './config/resource-service.config';

let issuer: TestIssuer;
let service: TestApplication;
const secret = randomBytes(32).toString('base64url');

beforeAll(async () => {
  issuer = await TestIssuer.start({
    audience: 'resource-service',
    clients: { 'resource-service': secret },
  });
  service = await createTestApplication(AppModule, resourceServiceConfig, {
    AUTH_ISSUER: issuer.issuer,
    AUTH_CLIENT_SECRET: secret,
    BODY_LIMIT: '32768',
  });
});
afterAll(async () => {
  await service.close();
  await issuer.stop();
});

describeBadInput({
  service: 'resource-service',
  requests: 2500,
  target: () => ({
    url: service.url,
    bodyLimit: 32768,
    authorizations: [
      `Bearer ${issuer.accessToken({ sub: 'fuzz', scope: 'notes:read notes:write' }, { expiresIn: 3600 })}`,
      `Bearer ${issuer.accessToken({ sub: 'fuzz-admin', scope: 'notes:read notes:write', roles: ['admin'] }, { expiresIn: 3600 })}`,
    ],
    endpoints: [
      { method: 'GET', path: '/notes' },
      { method: 'POST', path: '/notes', fields: ['title', 'body'] },
      { method: 'GET', path: '/notes/:id' },
      { method: 'PATCH', path: '/notes/:id', fields: ['title', 'body'] },
      { method: 'DELETE', path: '/notes/:id' },
      { method: 'DELETE', path: '/notes' },
      { method: 'GET', path: '/me' },
      { method: 'GET', path: '/ping' },
      { method: 'GET', path: '/ping/guarded' },
      { method: 'GET', path: '/health/ready' },
      { method: 'GET', path: '/:id' },
    ],
  }),
});
