import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Metrics } from './metrics';

/** The `route` label of a request no route matched (a 404), so that URLs never become labels. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Every finished request into `tessera_http_request_duration_seconds`, labelled by the matched
 * route's pattern (`/notes/:id`, not `/notes/42`: bounded cardinality), method and status.
 */
export function registerHttpMetrics(app: NestFastifyApplication): void {
  const metrics = app.get(Metrics);
  app
    .getHttpAdapter()
    .getInstance()
    // A callback hook, not an async one: no promise per request for synchronous work.
    .addHook('onResponse', (request, reply, done) => {
      metrics.observeHttpRequest(
        request.method,
        request.routeOptions.url ?? UNMATCHED_ROUTE,
        reply.statusCode,
        reply.elapsedTime / 1000,
      );
      done();
    });
}
