import { HttpException, HttpStatus, UnauthorizedException } from '@nestjs/common';
import type { HttpExceptionWithHeaders } from '@tessera/platform';

/**
 * The one answer for an unknown email, a wrong password and a disabled account, so none of them
 * can be told apart (checklist I9).
 */
export class InvalidCredentialsException extends UnauthorizedException {
  constructor() {
    super({ error: 'invalid_credentials', message: 'The email or password is not correct' });
  }
}

/** 429 with `Retry-After`: the account or the client address has failed too often (I10). */
export class TooManyLoginAttemptsException
  extends HttpException
  implements HttpExceptionWithHeaders
{
  readonly headers: Record<string, string>;

  constructor(readonly retryAfterSeconds: number) {
    super(
      {
        error: 'too_many_login_attempts',
        message: `Too many failed logins; try again in ${retryAfterSeconds} seconds`,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
    this.headers = { 'Retry-After': String(retryAfterSeconds) };
  }
}
