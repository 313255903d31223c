export * from './service-process';
export * from './test-application';
export * from './test-postgres';
export * from './running-processes';
export * from './service-lifecycle.suite';
export * from './compose-file';
export * from './environment-parity.suite';
export * from './tcp-proxy';
