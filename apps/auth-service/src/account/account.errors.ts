import { BadRequestException, ForbiddenException, HttpException, HttpStatus } from '@nestjs/common';
import type { HttpExceptionWithHeaders } from '@tessera/platform';

/**
 * One answer for a link or code that is unknown, expired, used, superseded by a newer one, or
 * (a reset link) issued before the password changed: which of them it was is nobody's business.
 */
export class InvalidAccountTokenException extends BadRequestException {
  constructor() {
    super({
      error: 'invalid_token',
      message: 'This link or code is invalid, expired or already used; ask for a new one',
    });
  }
}

/** 429 with Retry-After: too many account-mail requests from this client address this hour. */
export class TooManyAccountRequestsException
  extends HttpException
  implements HttpExceptionWithHeaders
{
  readonly headers: Record<string, string>;

  constructor(readonly retryAfterSeconds: number) {
    super(
      {
        error: 'too_many_requests',
        message: `Too many requests from this address; try again in ${retryAfterSeconds} seconds`,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
    this.headers = { 'Retry-After': String(retryAfterSeconds) };
  }
}

/** Sign-in refused because the address is not verified (UNVERIFIED_SIGN_IN=false). */
export class EmailNotVerifiedException extends ForbiddenException {
  constructor() {
    super({
      error: 'email_not_verified',
      message: 'Confirm your email address first: follow the link in the mail we sent',
    });
  }
}
