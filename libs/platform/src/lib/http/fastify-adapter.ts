import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { HttpServiceEnvironment } from '../config/service-environment';
import { jsonBodyLimitError } from './json-body-limits';

export const REQUEST_ID_HEADER = 'x-request-id';

/** A caller's request id is kept only when it is short and plain, so it is safe to log. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdOf(request: IncomingMessage): string {
  const offered = request.headers[REQUEST_ID_HEADER];
  return typeof offered === 'string' && REQUEST_ID_PATTERN.test(offered) ? offered : randomUUID();
}

export function createFastifyAdapter(environment: HttpServiceEnvironment): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: environment.BODY_LIMIT,
    genReqId: requestIdOf,
    requestIdHeader: false,
    trustProxy: trustProxyOf(environment.TRUST_PROXY),
    // Nest logs through its own logger; Fastify's would print every request.
    logger: false,
    // No Nest middleware (`MiddlewareConsumer`, `app.use`): the platform works in Fastify hooks,
    // and @fastify/middie, which Nest would register to run middleware, costs every request
    // (docs/performance.md). A module that applies middleware fails to start.
    skipMiddie: true,
  });
}

/**
 * Echo the request id on every response, and put the JSON shape limits (json-body-limits.ts)
 * in front of the JSON parser. Errors Fastify raises before Nest sees a request (malformed JSON,
 * a body over BODY_LIMIT, an unsupported content type, a body too deep or with too many keys)
 * reach Nest's exception filters as HttpExceptions, so the house error shape needs nothing here.
 */
export function configureFastify(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  limitJsonBodies(app);
}

/**
 * Nest registers its body parsers (forms, JSON) in app.init(); they are registered here first, as
 * Nest would, and the JSON one is then replaced by Fastify's own (secure-json-parse: `__proto__`
 * and `constructor.prototype` keys refused) behind the depth and key-count scan.
 */
function limitJsonBodies(app: NestFastifyApplication): void {
  const adapter = app.getHttpAdapter() as unknown as FastifyAdapter;
  adapter.registerParserMiddleware();
  const fastify = adapter.getInstance();
  const { bodyLimit, onProtoPoisoning, onConstructorPoisoning } = fastify.initialConfig;
  const parseJson = fastify.getDefaultJsonParser(
    onProtoPoisoning ?? 'error',
    onConstructorPoisoning ?? 'error',
  );
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit },
    (request, body, done) => {
      const error = jsonBodyLimitError(body as string);
      if (error) {
        done(error, undefined);
        return;
      }
      parseJson(request, body as string, done);
    },
  );
}

/** Fastify's trustProxy from TRUST_PROXY: a hop count, a list of addresses, or nobody. */
export function trustProxyOf(value: string): number | string | false {
  if (value === '') return false;
  return /^\d+$/.test(value) ? Number(value) : value;
}
