import { startTracing } from '@tessera/platform/tracing';

// main.ts imports this first: instrumentations patch modules as they are required, so tracing
// starts before Nest, undici or pino is loaded. Off unless OTEL_TRACES_EXPORTER is set.
startTracing('gateway');
