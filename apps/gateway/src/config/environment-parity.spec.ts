import { describeEnvironmentParity } from '@tessera/platform-testing';
import { GatewayEnvironment } from './gateway.config';

describeEnvironmentParity({
  service: 'gateway',
  environmentClass: GatewayEnvironment,
  developmentOnly: [],
});
