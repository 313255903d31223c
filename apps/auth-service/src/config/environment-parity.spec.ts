import { describeEnvironmentParity } from '@tessera/platform-testing';
import { AuthServiceEnvironment, DEVELOPMENT_ONLY_VARIABLES } from './auth-service.config';

describeEnvironmentParity({
  service: 'auth-service',
  environmentClass: AuthServiceEnvironment,
  developmentOnly: DEVELOPMENT_ONLY_VARIABLES,
  // In docker-compose clients reach it through the gateway, the one published origin (ADR 0012).
  composeDefaults: { ISSUER: 'http://127.0.0.1:3000' },
});
