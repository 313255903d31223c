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

/** 429 in the house error shape, with `Retry-After` in seconds. */
abstract class TooManyRequestsException extends HttpException implements HttpExceptionWithHeaders {
  readonly headers: Record<string, string>;

  protected constructor(
    readonly retryAfterSeconds: number,
    error: string,
    message: string,
  ) {
    super({ error, message }, HttpStatus.TOO_MANY_REQUESTS);
    this.headers = { 'Retry-After': String(retryAfterSeconds) };
  }
}

/** 429 with `Retry-After`: the account or the client address has failed too often (I10). */
export class TooManyLoginAttemptsException extends TooManyRequestsException {
  constructor(retryAfterSeconds: number) {
    super(
      retryAfterSeconds,
      'too_many_login_attempts',
      `Too many failed logins; try again in ${retryAfterSeconds} seconds`,
    );
  }
}

/**
 * 429 with `Retry-After`: too many registrations from this client address (an IPv6 /64 is one) in
 * the last hour (I16). The same for a new email and a taken one: it reveals nothing about accounts.
 */
export class TooManyRegistrationsException extends TooManyRequestsException {
  constructor(retryAfterSeconds: number) {
    super(
      retryAfterSeconds,
      'too_many_registrations',
      `Too many registrations from this address; try again in ${retryAfterSeconds} seconds`,
    );
  }
}

/**
 * 429 with `Retry-After`: too many passwordless passkey sign-ins started (WebAuthn options asked
 * for) from this client address (an IPv6 /64 is one) within LOGIN_THROTTLE_WINDOW.
 */
export class TooManyPasskeySignInsException extends TooManyRequestsException {
  constructor(retryAfterSeconds: number) {
    super(
      retryAfterSeconds,
      'too_many_passkey_sign_ins',
      `Too many passkey sign-ins started from this address; try again in ${retryAfterSeconds} seconds`,
    );
  }
}
