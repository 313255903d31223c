import { ForbiddenException, Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Every form post of the hosted pages carries the `_csrf` token the page was rendered with; it
 * must match the secret in the HttpOnly CSRF cookie (@fastify/csrf-protection). A cross-site form
 * has neither: 403 (A5). The plugin's own check answers through the reply; here its verdict
 * becomes a Nest exception instead, so the error page renders it like any other.
 */
@Injectable()
export class CsrfGuard implements CanActivate {
  constructor(private readonly host: HttpAdapterHost) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const fastify = this.host.httpAdapter.getInstance<FastifyInstance>();
    const refused = await new Promise<unknown>((resolve) => {
      const verdict = { send: (error: unknown) => resolve(error) } as unknown as FastifyReply;
      fastify.csrfProtection(http.getRequest<FastifyRequest>(), verdict, () => resolve(undefined));
    });
    if (refused !== undefined) {
      throw new ForbiddenException({
        error: 'invalid_csrf_token',
        message:
          'This form has expired or did not come from this site. Go back, reload it and try again.',
      });
    }
    return true;
  }
}
