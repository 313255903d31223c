import { describeServiceLifecycle } from '@tessera/platform-testing';

describeServiceLifecycle({ name: 'resource-service', port: 13002 });
