import type * as OpenTelemetryApi from '@opentelemetry/api';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * Names each request's server span after its route (`GET /notes/:id`, not `GET`) and sets its
 * `http.route`, as the trace viewer groups and searches by them: the HTTP instrumentation starts
 * the span before Fastify has matched the route. Registered only while tracing is on.
 */
export function registerTraceRoutes(app: NestFastifyApplication): void {
  // Loaded here, not with the bundle: with tracing off this is never called.
  const { trace } = require('@opentelemetry/api') as typeof OpenTelemetryApi;
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, _reply, done) => {
      const route = request.routeOptions.url;
      const span = trace.getActiveSpan();
      if (span !== undefined && route !== undefined) {
        span.updateName(`${request.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      done();
    });
}
