import {
  ConflictException,
  ForbiddenException,
  HttpException,
  HttpStatus,
  UnauthorizedException,
} from '@nestjs/common';
import type { HttpExceptionWithHeaders } from '@tessera/platform';

/** The second factors a pending sign-in can be completed with. */
export type SecondFactorMethod = 'totp' | 'recovery_code' | 'passkey';

/** The body of a 403 `mfa_required`: what the client needs for the second step. */
export interface SecondFactorRequiredBody {
  statusCode: 403;
  error: 'mfa_required';
  message: string;
  /** For `POST /auth/login/second-factor`: single-use, `expires_in` seconds. */
  mfa_token: string;
  methods: SecondFactorMethod[];
  expires_in: number;
}

/**
 * 403 `mfa_required`: the password was right and the account has a second factor. Nothing is
 * issued. The house error filter keeps only `error` and `message`, so a route that can end this
 * way answers `body` itself (see AuthController.login); uncaught, it is a 403 without the token.
 */
export class SecondFactorRequiredException extends ForbiddenException {
  readonly body: SecondFactorRequiredBody;

  constructor(mfaToken: string, methods: readonly SecondFactorMethod[], expiresIn: number) {
    const message = 'This account has a second factor: send it with the mfa_token';
    super({ error: 'mfa_required', message });
    this.body = {
      statusCode: 403,
      error: 'mfa_required',
      message,
      mfa_token: mfaToken,
      methods: [...methods],
      expires_in: expiresIn,
    };
  }
}

/** 401: the code, recovery code or passkey did not verify (or was used before). */
export class InvalidSecondFactorException extends UnauthorizedException {
  constructor() {
    super({ error: 'invalid_second_factor', message: 'The second factor is not correct' });
  }
}

/** 401: the `mfa_token` is unknown, used or expired: sign in with the password again. */
export class InvalidMfaTokenException extends UnauthorizedException {
  constructor() {
    super({
      error: 'invalid_mfa_token',
      message: 'The mfa_token is invalid or expired; sign in again',
    });
  }
}

/**
 * 403: a hosted page's pending sign-in came back without the cookie of the browser that typed the
 * password (another browser, or one that dropped the cookie). Nothing was checked or spent.
 */
export class PendingSignInElsewhereException extends ForbiddenException {
  constructor() {
    super({
      error: 'pending_sign_in_elsewhere',
      message:
        'This sign-in was started in another browser, or this browser did not keep its cookie; enter your password again here',
    });
  }
}

/** 429 with `Retry-After`: MFA_FAILURE_LIMIT wrong second factors within MFA_LOCKOUT_SECONDS. */
export class TooManySecondFactorAttemptsException
  extends HttpException
  implements HttpExceptionWithHeaders
{
  readonly headers: Record<string, string>;

  constructor(readonly retryAfterSeconds: number) {
    super(
      {
        error: 'too_many_second_factor_attempts',
        message: `Too many wrong second factors; try again in ${retryAfterSeconds} seconds`,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
    this.headers = { 'Retry-After': String(retryAfterSeconds) };
  }
}

/** 409: a confirmed TOTP authenticator is there already; remove it first. */
export class TotpAlreadyEnrolledException extends ConflictException {
  constructor() {
    super({
      error: 'totp_already_enrolled',
      message: 'An authenticator app is enrolled already; remove it first',
    });
  }
}

/** 409: confirming, with no enrolment waiting for its first code. */
export class NoTotpEnrolmentException extends ConflictException {
  constructor() {
    super({ error: 'no_totp_enrolment', message: 'Start an enrolment first: POST /auth/mfa/totp' });
  }
}
