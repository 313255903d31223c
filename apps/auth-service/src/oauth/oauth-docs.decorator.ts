import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiResponse, ApiSecurity } from '@nestjs/swagger';
import type { Type } from '@nestjs/common';
import { OAuthErrorResponse } from './dto/oauth-responses';

/**
 * The API docs of an OAuth endpoint: its form body, client authentication with
 * `Authorization: Basic` or in the form (hence the empty alternative), and errors in RFC 6749's
 * shape, which OAuthErrorFilter answers instead of the house one. (A body over BODY_LIMIT is
 * refused before the route, so its 413 is in the house shape, as the docs add it.)
 */
export function OAuthEndpoint(
  form: Type<unknown>,
  answer: { type?: Type<unknown>; description: string },
) {
  return applyDecorators(
    ApiConsumes('application/x-www-form-urlencoded'),
    ApiBody({ type: form }),
    ApiSecurity('clientBasic'),
    ApiSecurity({}),
    ApiOkResponse(answer),
    ApiResponse({
      status: 400,
      type: OAuthErrorResponse,
      description:
        'RFC 6749 §5.2: `invalid_request`, `invalid_grant`, `invalid_scope`, `invalid_target` (RFC 8707), …',
    }),
    ApiResponse({
      status: 401,
      type: OAuthErrorResponse,
      description:
        '`invalid_client` (with `WWW-Authenticate: Basic` after a Basic header) or `invalid_token`',
    }),
  );
}
