import { describeEnvironmentParity } from '@tessera/platform-testing';
import { GatewayEnvironment } from './gateway.config';

describeEnvironmentParity({
  service: 'gateway',
  environmentClass: GatewayEnvironment,
  developmentOnly: [],
  // The example web app's origin: docker-compose runs it, and it calls the APIs through here.
  composeDefaults: { CORS_ORIGINS: 'http://localhost:4200' },
});
