import { Catch, HttpException } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { HttpExceptionWithHeaders } from '@tessera/platform';
import type { FastifyReply } from 'fastify';
import { AuthorizationPageError } from '../authorization/authorization.errors';
import { PageRenderer } from './page-renderer';

/**
 * On the hosted pages an error is a page, not JSON: an authorization request with nowhere safe
 * to redirect (RFC 6749 §4.1.2.1), a form without its CSRF token, a malformed form. A 5xx is not
 * caught here: it is a bug, and the global filter logs it.
 */
@Catch(AuthorizationPageError, HttpException)
export class PageErrorFilter implements ExceptionFilter {
  constructor(private readonly pages: PageRenderer) {}

  async catch(
    exception: AuthorizationPageError | HttpException,
    host: ArgumentsHost,
  ): Promise<void> {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (exception instanceof AuthorizationPageError) {
      await this.pages.render(
        reply,
        'error',
        { title: 'This sign-in link is not valid', message: exception.message },
        { status: 400 },
      );
      return;
    }
    const status = exception.getStatus();
    if (status >= 500) throw exception;
    const response = exception.getResponse();
    const message =
      typeof response === 'object' && response !== null && 'message' in response
        ? String((response as { message: unknown }).message)
        : exception.message;
    for (const [name, value] of Object.entries(
      (exception as HttpExceptionWithHeaders).headers ?? {},
    )) {
      reply.header(name, value);
    }
    await this.pages.render(reply, 'error', { title: 'Something went wrong', message }, { status });
  }
}
