import { Catch, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../database/database-unavailable';
import { errorBody } from './error-body';

/** What a 503 for an unreachable database tells clients to wait. */
const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * Turns every exception that reaches Nest into the house error shape. An HttpException keeps its
 * status and message; an unreachable database is a 503 with Retry-After (O1); anything else is a
 * bug: logged with its stack, answered with a bare 500.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    // A message handler's error (message transports share the application's filters): Nest's
    // own RPC answer, which keeps an RpcException's body.
    if (host.getType() !== 'http') return;
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      for (const [name, value] of Object.entries(responseHeaders(exception))) {
        reply.header(name, value);
      }
      reply
        .status(status)
        .send(errorBody(status, messageOf(exception), request.id, codeOf(exception)));
      return;
    }
    if (isDatabaseUnavailable(exception)) {
      // Not a bug: the database is down or restarting. Say so quickly; the pool reconnects by itself.
      this.logger.warn(
        `Database unavailable on ${request.method} ${request.routeOptions.url ?? 'unknown route'} (request ${request.id}): ${exception instanceof Error ? exception.message : String(exception)}`,
      );
      const unavailable = HttpStatus.SERVICE_UNAVAILABLE;
      reply
        .status(unavailable)
        .header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS))
        .send(errorBody(unavailable, 'The database is unavailable; try again shortly', request.id));
      return;
    }
    this.logger.error(
      `Unhandled error on ${request.method} ${request.routeOptions.url ?? 'unknown route'} (request ${request.id})`,
      exception instanceof Error ? exception.stack : String(exception),
    );
    const status = HttpStatus.INTERNAL_SERVER_ERROR;
    reply.status(status).send(errorBody(status, 'Internal server error', request.id));
  }
}

/** Exceptions may carry headers for the reply (e.g. `Retry-After`, `WWW-Authenticate`). */
export interface HttpExceptionWithHeaders {
  headers?: Record<string, string>;
}

function responseHeaders(exception: HttpException): Record<string, string> {
  return (exception as HttpExceptionWithHeaders).headers ?? {};
}

/** A stable code an exception gives as `error` (`{ error: 'invalid_grant', message }`). */
const ERROR_CODE = /^[a-z][a-z0-9_]*$/;

function codeOf(exception: HttpException): string | undefined {
  const response = exception.getResponse();
  if (typeof response !== 'object' || response === null) return undefined;
  const error = (response as { error?: unknown }).error;
  return typeof error === 'string' && ERROR_CODE.test(error) ? error : undefined;
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  if (typeof message === 'string') return message;
  return exception.message;
}
