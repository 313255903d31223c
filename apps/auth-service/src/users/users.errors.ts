import { BadRequestException, ConflictException, NotFoundException } from '@nestjs/common';

/** The password breaks the policy; the message tells the person what to change. */
export class WeakPasswordException extends BadRequestException {
  constructor(message: string) {
    super({ error: 'weak_password', message });
  }
}

/**
 * Registration must say the email is taken: the person has to know to sign in instead. That
 * does reveal which emails have accounts; the login endpoint reveals nothing (I9). The
 * registration throttle (REGISTRATION_ADDRESS_LIMIT per hour and address group, for taken and new
 * emails alike) bounds how fast one source can ask.
 */
export class EmailTakenException extends ConflictException {
  constructor() {
    super({ error: 'email_taken', message: 'An account with this email already exists' });
  }
}

/** Password change with a wrong current password. 400, not 401: the access token was fine. */
export class WrongCurrentPasswordException extends BadRequestException {
  constructor() {
    super({ error: 'wrong_current_password', message: 'The current password is not correct' });
  }
}

export class UserNotFoundException extends NotFoundException {
  constructor() {
    super({ error: 'user_not_found', message: 'No such user' });
  }
}

/** An email whose lower-case form PostgreSQL and JavaScript disagree on (rare non-ASCII letters). */
export class UnsupportedEmailException extends BadRequestException {
  constructor() {
    super({
      error: 'unsupported_email',
      message: 'This email address cannot be used as written; try it in lower case',
    });
  }
}
