import { describeEnvironmentParity } from '@tessera/platform-testing';
import { AuthServiceEnvironment, DEVELOPMENT_ONLY_VARIABLES } from './auth-service.config';

describeEnvironmentParity({
  service: 'auth-service',
  environmentClass: AuthServiceEnvironment,
  developmentOnly: DEVELOPMENT_ONLY_VARIABLES,
});
