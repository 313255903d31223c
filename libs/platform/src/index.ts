// What other projects import from the platform, and nothing else (docs/architecture.md, "Libraries").
export { ApiErrors } from './lib/api-docs/api-errors.decorator';
export { API_DOCS_CONTENT_SECURITY_POLICY } from './lib/api-docs/api-docs';
export { BEARER_SCHEME } from './lib/api-docs/api-document';
export { ERROR_BODY_SCHEMA_NAME } from './lib/api-docs/api-errors.decorator';
export { applicationRoutes } from './lib/api-docs/route-access';
export type { ApplicationRoute } from './lib/api-docs/route-access';
export { bootstrapService, createServiceApplication } from './lib/bootstrap/bootstrap-service';
export { runServiceCommand } from './lib/bootstrap/run-service-command';
export type { ServiceCommand } from './lib/bootstrap/run-service-command';
export { CommaSeparated } from './lib/config/comma-separated.decorator';
export { EnvironmentValidationError } from './lib/config/environment-validation.error';
export { HttpsInProduction } from './lib/config/https-in-production.decorator';
export type { ServiceConfig } from './lib/config/service-config';
export { HttpServiceEnvironment, ServiceEnvironment } from './lib/config/service-environment';
export { environmentVariableNames, validateEnvironment } from './lib/config/validate-environment';
export { provisionServiceDatabase } from './lib/database/database-roles';
export type { ProvisionedDatabase } from './lib/database/database-roles';
export { EmbeddedPostgresCluster } from './lib/database/embedded-postgres-cluster';
export type { ErrorBody } from './lib/http/error-body';
export { HttpErrorFilter } from './lib/http/http-error.filter';
export type { HttpExceptionWithHeaders } from './lib/http/http-error.filter';
export { SECURITY_HEADERS } from './lib/http/http-security';
export { IsText } from './lib/http/is-text.decorator';
export {
  JetStreamEventContext,
  JetStreamEventServer,
} from './lib/messaging/jetstream-event.server';
export { MESSAGE_TRANSPORTS } from './lib/messaging/message-transports';
export { Metrics } from './lib/metrics/metrics';
export type { MetricCounter } from './lib/metrics/metrics';
export { ServiceCoreModule } from './lib/service-core.module';
export { injectTraceContext } from './lib/tracing/trace-context';
