import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { EmailNotVerifiedException } from '../account/account.errors';
import { AuditService } from '../audit/audit.service';
import { authServiceConfig } from '../config/auth-service.config';
import { normaliseEmail } from '../users/normalise-email';
import { PasswordHasher } from '../users/password-hasher';
import type { User } from '../users/user.entity';
import { WrongCurrentPasswordException } from '../users/users.errors';
import { UsersService } from '../users/users.service';
import { Clock } from '@tessera/auth-token';
import { LoginThrottle } from './login-throttle.service';
import { InvalidCredentialsException, TooManyLoginAttemptsException } from './login.errors';

export interface Credentials {
  email: string;
  password: string;
  clientAddress: string;
  userAgent?: string;
}

/** Checks an email and password: the user, or one exception that says nothing about why. */
export interface PasswordChange {
  userId: string;
  currentPassword: string;
  newPassword: string;
  clientAddress: string;
  userAgent?: string;
}

@Injectable()
export class LoginService {
  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly throttle: LoginThrottle,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  /**
   * @throws TooManyLoginAttemptsException (429, with Retry-After) before any password is checked
   * @throws InvalidCredentialsException (401) for an unknown email, a wrong password or a disabled
   *   account alike; each path runs argon2 exactly once, so timing tells them apart no better.
   * @throws EmailNotVerifiedException (403) with UNVERIFIED_SIGN_IN=false, after a right password
   */
  async authenticate({ email, password, clientAddress, userAgent }: Credentials): Promise<User> {
    const attempt = { account: normaliseEmail(email), address: clientAddress };
    const origin = { clientAddress, userAgent };
    await this.beginThrottled(attempt, origin);

    const user = await this.users.findByEmail(attempt.account);
    const passwordMatches = user
      ? await this.hasher.verify(user.passwordHash, password)
      : await this.hasher.verifyDummy(password);
    if (!user || !passwordMatches || user.disabledAt) {
      // The attempted email is not logged: people type their password into the email field.
      const reason = !user ? 'unknown_account' : !passwordMatches ? 'wrong_password' : 'disabled';
      await this.audit.record({
        type: 'login.failed',
        userId: user?.id,
        ...origin,
        detail: { reason },
      });
      throw new InvalidCredentialsException();
    }

    await this.throttle.succeeded(attempt, this.clock.now());
    // Said only to whoever knows the password, so it reveals nothing to anyone else.
    if (!user.emailVerifiedAt && !this.environment.UNVERIFIED_SIGN_IN) {
      await this.audit.record({
        type: 'login.failed',
        userId: user.id,
        ...origin,
        detail: { reason: 'email_not_verified' },
      });
      throw new EmailNotVerifiedException();
    }
    await this.users.upgradePasswordHash(user, password);
    await this.audit.record({ type: 'login.succeeded', userId: user.id, ...origin });
    return user;
  }

  /**
   * A password change, throttled like a login: whoever holds a stolen access token must not be
   * able to guess the current password without limit. Only a wrong current password counts.
   *
   * @throws TooManyLoginAttemptsException (429, with Retry-After) before the password is checked
   * @throws WrongCurrentPasswordException, WeakPasswordException from UsersService.changePassword
   */
  async changePassword({
    userId,
    currentPassword,
    newPassword,
    clientAddress,
    userAgent,
  }: PasswordChange): Promise<void> {
    const user = await this.users.findById(userId);
    if (!user) throw new InvalidCredentialsException();
    const attempt = { account: user.email, address: clientAddress };
    await this.beginThrottled(attempt, { clientAddress, userAgent });
    try {
      await this.users.changePassword(userId, currentPassword, newPassword);
    } catch (error) {
      if (!(error instanceof WrongCurrentPasswordException))
        await this.throttle.succeeded(attempt, this.clock.now());
      throw error;
    }
    await this.throttle.succeeded(attempt, this.clock.now());
  }

  private async beginThrottled(
    attempt: { account: string; address: string },
    origin: { clientAddress: string; userAgent?: string },
  ): Promise<void> {
    try {
      await this.throttle.begin(attempt, this.clock.now());
    } catch (error) {
      if (error instanceof TooManyLoginAttemptsException) {
        await this.audit.record({
          type: 'login.throttled',
          ...origin,
          detail: { retryAfterSeconds: error.retryAfterSeconds },
        });
      }
      throw error;
    }
  }
}
