import { createTestApplication, describeApiDocs } from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import { AppModule } from './app.module';
import { resourceServiceConfig } from './config/resource-service.config';

let service: TestApplication;

beforeAll(async () => {
  // NODE_ENV=test: the docs are on, as in development.
  service = await createTestApplication(AppModule, resourceServiceConfig);
});
afterAll(() => service.close());

describeApiDocs({
  service: 'resource-service',
  target: () => service,
  errors: {
    'GET /notes': [503],
    'POST /notes': [503],
    'DELETE /notes': [503],
    'GET /notes/{id}': [404, 503],
    'PATCH /notes/{id}': [404, 503],
    'DELETE /notes/{id}': [404, 503],
    'GET /health/ready': [503],
  },
});
