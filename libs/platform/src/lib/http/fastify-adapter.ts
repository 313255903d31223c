import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { HttpServiceEnvironment } from '../config/service-environment';

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
  });
}

/**
 * Echo the request id on every response. Errors Fastify raises before Nest sees a request
 * (malformed JSON, a body over BODY_LIMIT, an unsupported content type) already reach Nest's
 * exception filters as HttpExceptions, so the house error shape needs nothing here.
 */
export function configureFastify(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      reply.header(REQUEST_ID_HEADER, request.id);
      done();
    });
}

/** Fastify's trustProxy from TRUST_PROXY: a hop count, a list of addresses, or nobody. */
export function trustProxyOf(value: string): number | string | false {
  if (value === '') return false;
  return /^\d+$/.test(value) ? Number(value) : value;
}
