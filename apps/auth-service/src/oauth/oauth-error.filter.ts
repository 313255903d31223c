import { Catch, HttpException } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { HttpExceptionWithHeaders } from '@tessera/platform';
import type { FastifyReply } from 'fastify';
import { noStore } from '../auth/token-response';

const CODE = /^[a-z][a-z0-9_]*$/;

/**
 * The OAuth endpoints answer errors in RFC 6749 §5.2's shape instead of the house one:
 * `{ "error", "error_description" }`, never cached. Any 4xx becomes `invalid_request` unless it
 * names its code (`invalid_grant`, `invalid_client`, …). A 5xx is not caught here: it is a bug,
 * and the global filter logs it.
 */
@Catch(HttpException)
export class OAuthErrorFilter implements ExceptionFilter {
  catch(exception: HttpException, host: ArgumentsHost): void {
    const status = exception.getStatus();
    if (status >= 500) throw exception;
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const response = exception.getResponse();
    const body =
      typeof response === 'object' && response !== null
        ? (response as Record<string, unknown>)
        : {};
    const code =
      typeof body['error'] === 'string' && CODE.test(body['error'])
        ? body['error']
        : 'invalid_request';
    const message = Array.isArray(body['message'])
      ? body['message'].join('; ')
      : String(body['message'] ?? exception.message);
    for (const [name, value] of Object.entries(
      (exception as HttpExceptionWithHeaders).headers ?? {},
    )) {
      reply.header(name, value);
    }
    noStore(reply);
    reply.status(status).send({ error: code, error_description: message });
  }
}
