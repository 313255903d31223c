import { HttpException, HttpStatus } from '@nestjs/common';

/** The error codes of RFC 6749 §5.2, RFC 7009 §2.2.1 and RFC 8707 §2 that auth-service answers. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'invalid_token';

/**
 * An OAuth error. On the OAuth endpoints OAuthErrorFilter answers it as RFC 6749 §5.2 says:
 * `{ "error": code, "error_description": … }`, 401 for `invalid_client` and `invalid_token`, else
 * 400. `challenge` becomes `WWW-Authenticate` (RFC 6749 asks for one when the client used the
 * Authorization header).
 */
export class OAuthException extends HttpException {
  constructor(
    readonly code: OAuthErrorCode,
    description: string,
    challenge?: string,
  ) {
    const status =
      code === 'invalid_client' || code === 'invalid_token'
        ? HttpStatus.UNAUTHORIZED
        : HttpStatus.BAD_REQUEST;
    super({ error: code, message: description }, status);
    if (challenge) Object.assign(this, { headers: { 'www-authenticate': challenge } });
  }
}
