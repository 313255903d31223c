export { describeApiDocs } from './api-docs.suite';
export { describeBadInput } from './bad-input.suite';
export {
  ComposeVolumes,
  composeServiceEnvironment,
  composeServiceMounts,
  composeV2Problems,
  composeVariableReferences,
  readComposeFile,
} from './compose-file';
export type { ComposeFile, VariableSource } from './compose-file';
export { describeEnvironmentParity } from './environment-parity.suite';
export { NatsTestServer } from './nats-test-server';
export { OtlpTraceReceiver } from './otlp-trace-receiver';
export type { ReceivedSpan } from './otlp-trace-receiver';
export { processesMentioning } from './running-processes';
export { describeServiceLifecycle } from './service-lifecycle.suite';
export { ServiceProcess } from './service-process';
export type { ServiceProcessOptions } from './service-process';
export { TcpBalancer } from './tcp-balancer';
export { TcpProxy } from './tcp-proxy';
export { createTestApplication } from './test-application';
export type { TestApplication } from './test-application';
export {
  TEST_POSTGRES_URL_VARIABLE,
  createLeastPrivilegeTestDatabase,
  createTestDatabase,
  startTestPostgres,
} from './test-postgres';
