import { Injectable } from '@nestjs/common';
import { COMMON_PASSWORDS } from './common-passwords';
import { WeakPasswordException } from './users.errors';

/** NIST SP 800-63B and ASVS V6 minimum; 15 is recommended when there is no second factor. */
export const PASSWORD_MIN_LENGTH = 8;

/**
 * Far above the 64 that must be allowed (I12), low enough that a hostile megabyte "password"
 * cannot make argon2 (which reads every byte) a denial-of-service lever.
 */
export const PASSWORD_MAX_LENGTH = 256;

/**
 * The password rules of checklist I12: a length range counted in Unicode code points after NFC
 * normalisation (what a person sees as characters, mostly), no composition rules, never
 * truncated, and the most common passwords refused whatever their case.
 */
@Injectable()
export class PasswordPolicy {
  /** What is wrong with the password, in words a person can act on; undefined when it is fine. */
  problemWith(password: string, email?: string): string | undefined {
    const normalised = password.normalize('NFC');
    const length = [...normalised].length;
    if (length < PASSWORD_MIN_LENGTH) {
      return `Password must be at least ${PASSWORD_MIN_LENGTH} characters long (it has ${length}); a few unrelated words make a long password that is easy to remember`;
    }
    if (length > PASSWORD_MAX_LENGTH) {
      return `Password must be at most ${PASSWORD_MAX_LENGTH} characters long (it has ${length})`;
    }
    const lowerCase = normalised.toLowerCase();
    if (COMMON_PASSWORDS.has(lowerCase)) {
      return 'This password is one of the most common ones and would be guessed quickly; choose another';
    }
    if (email !== undefined && lowerCase === email.trim().toLowerCase()) {
      return 'Password must not be your email address';
    }
    return undefined;
  }

  /** Throws WeakPasswordException (400) when the password breaks the policy. */
  enforce(password: string, email?: string): void {
    const problem = this.problemWith(password, email);
    if (problem !== undefined) throw new WeakPasswordException(problem);
  }
}
