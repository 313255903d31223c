import { describeEnvironmentParity } from '@tessera/platform-testing';
import { ResourceServiceEnvironment, DEVELOPMENT_ONLY_VARIABLES } from './resource-service.config';

describeEnvironmentParity({
  service: 'resource-service',
  environmentClass: ResourceServiceEnvironment,
  developmentOnly: DEVELOPMENT_ONLY_VARIABLES,
});
