import { Injectable, UnsupportedMediaTypeException } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/**
 * The `/auth/*` routes take JSON only: a request with a body of another type (a form, a
 * multipart form, text/plain: what a cross-site HTML form can send without a CORS preflight)
 * gets 415 before anything reads it. The `/oauth/*` endpoints take forms, as RFC 6749 says, and
 * do not use this guard.
 */
@Injectable()
export class JsonBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!hasBody(request)) return true;
    const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type === 'application/json') return true;
    throw new UnsupportedMediaTypeException(
      `Send the body as application/json${type ? `, not ${type}` : ''}`,
    );
  }
}

/** The 415 in the API docs of each route that takes a body. */
export const NOT_JSON_BODY = {
  status: 415,
  description: 'The body is not `application/json` (forms are refused: CSRF)',
};

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (
    request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
  );
}
