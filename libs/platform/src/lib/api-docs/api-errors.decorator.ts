import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import type { HeadersObject, SchemaObject } from '@nestjs/swagger';

/** The name of the house error shape (ErrorBody) among the document's schemas. */
export const ERROR_BODY_SCHEMA_NAME = 'ErrorBody';

/** ErrorBody as JSON Schema: what every error of a Tessera service looks like. */
export const ERROR_BODY_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['statusCode', 'error', 'message', 'requestId'],
  properties: {
    statusCode: { type: 'integer', description: 'The HTTP status again' },
    error: {
      type: 'string',
      description: 'The HTTP reason phrase, or a stable code such as `insufficient_scope`',
    },
    message: { type: 'string', description: 'What went wrong, for people' },
    requestId: {
      type: 'string',
      description: 'The `x-request-id` sent, when short and plain, or a fresh UUID',
    },
  },
};

const ERROR_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'The request is invalid; `message` says what to change',
  401: 'No valid access token; `WWW-Authenticate: Bearer` says why',
  403: 'The token lacks a scope or role the route needs (`insufficient_scope`)',
  404: 'Not found',
  409: 'It conflicts with what already exists',
  413: 'The body is larger than BODY_LIMIT',
  429: 'Too many attempts; `Retry-After` says when to try again',
  503: 'Unavailable for now (its database or a service it calls); `Retry-After` may say when to try again',
};

const RETRY_AFTER: HeadersObject = {
  'Retry-After': {
    description: 'Seconds to wait before trying again',
    schema: { type: 'integer' },
  },
};

const ERROR_HEADERS: Readonly<Record<number, HeadersObject>> = {
  401: {
    'WWW-Authenticate': {
      description: 'RFC 6750: `Bearer`, or `Bearer error="invalid_token"`',
      schema: { type: 'string' },
    },
  },
  403: {
    'WWW-Authenticate': {
      description: 'RFC 6750: `Bearer error="insufficient_scope", scope="…"`',
      schema: { type: 'string' },
    },
  },
  429: RETRY_AFTER,
  503: RETRY_AFTER,
};

/** An error a route answers: a status with the usual description, or with its own. */
export type ApiErrorSpec = number | { status: number; description: string };

/** The OpenAPI response of an error in the house shape. */
export function errorResponse(status: number, description?: string) {
  return {
    description: description ?? ERROR_DESCRIPTIONS[status] ?? 'Error',
    ...(ERROR_HEADERS[status] && { headers: ERROR_HEADERS[status] }),
    content: {
      'application/json': { schema: { $ref: `#/components/schemas/${ERROR_BODY_SCHEMA_NAME}` } },
    },
  };
}

/**
 * Documents the errors a route (or every route of a controller) answers beyond the ones the API
 * docs derive by themselves: 400 for a route with input, 413 for one with a body, 401 and 403 from
 * `@Public()`, `@Scopes()` and `@Roles()`. Each in the house error shape.
 *
 * @example
 * ```ts
 * @ApiErrors(404, { status: 409, description: 'The email is taken' })
 * @Post('register')
 * register(@Body() body: RegisterDto) { … }
 * ```
 */
export function ApiErrors(...errors: ApiErrorSpec[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...errors.map((error) => {
      const { status, description } =
        typeof error === 'number' ? { status: error, description: undefined } : error;
      const { content, ...rest } = errorResponse(status, description);
      return ApiResponse({
        status,
        ...rest,
        schema: content['application/json'].schema,
      });
    }),
  );
}
