import { BadRequestException, UnauthorizedException } from '@nestjs/common';
import { InvalidGrantError } from '../sessions/invalid-grant.error';

/**
 * 400 `{ "error": "invalid_grant" }` for any refresh token that cannot be used (F8); 401 with the
 * same body at `POST /auth/refresh` (asUnauthorized). The body
 * never says which check failed: the reason goes to the audit log.
 */
export class InvalidGrantException extends BadRequestException {
  constructor(message = 'The refresh token is invalid, expired or revoked') {
    super({ error: 'invalid_grant', message });
  }

  static from(error: unknown): Error {
    return error instanceof InvalidGrantError ? new InvalidGrantException() : (error as Error);
  }

  /**
   * `POST /auth/refresh` answers a dead refresh token with 401 and this same body: the caller is
   * not authenticated and must sign in again. `/oauth/token` keeps RFC 6749 §5.2's 400.
   */
  static asUnauthorized(error: unknown): unknown {
    return error instanceof InvalidGrantException
      ? new UnauthorizedException(error.getResponse())
      : error;
  }

  /** The session a reuse was detected on, when `error` says so. */
  static reuseOf(error: unknown): { userId: string; sessionId: string } | undefined {
    if (!(error instanceof InvalidGrantError) || error.reason !== 'reuse_detected')
      return undefined;
    return error.session;
  }
}
