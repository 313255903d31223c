// `@tessera/platform/tracing`: what a service's tracing.ts imports before anything else, apart
// from `@tessera/platform` so that importing it loads nothing that tracing must patch first
// (Nest, pg, pino). docs/observability.md.
export { startTracing } from '../lib/tracing/start-tracing';
