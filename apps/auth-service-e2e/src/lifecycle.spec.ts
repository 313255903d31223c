import { describeServiceLifecycle } from '@tessera/platform-testing';

describeServiceLifecycle({ name: 'auth-service', port: 13001 });
