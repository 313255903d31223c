import { Injectable } from '@nestjs/common';
import type { RequestContext } from '../auth/auth.service';
import type { BrowserSession } from '../authorization/authorization.repository';
import { BrowserSessionsService } from '../authorization/browser-sessions.service';
import { LoginService } from '../login/login.service';
import { MfaService } from '../mfa/mfa.service';
import { SecondFactorNotOnPagesException } from '../mfa/mfa.errors';
import { UsersService } from '../users/users.service';

/** A browser that has just signed in: the cookie's token and its session row. */
export interface SignedIn {
  token: string;
  session: BrowserSession;
}

/**
 * What the sign-in and sign-up forms do. Sign-in is LoginService.authenticate, the one
 * `/auth/login` uses: the same throttling (429 with Retry-After), the same single answer for an
 * unknown email, a wrong password and a disabled account (I9, I10, A6). A second factor hooks in
 * here: between the password check and the browser session.
 */
@Injectable()
export class PagesService {
  constructor(
    private readonly login: LoginService,
    private readonly users: UsersService,
    private readonly browserSessions: BrowserSessionsService,
    private readonly mfa: MfaService,
  ) {}

  /**
   * @throws TooManyLoginAttemptsException, InvalidCredentialsException as LoginService does
   * @throws SecondFactorNotOnPagesException (403) for an account with a second factor: the page
   *   cannot ask for it yet, and a password alone must not sign such an account in
   */
  async signIn(
    email: string,
    password: string,
    context: RequestContext,
    current: BrowserSession | null = null,
  ): Promise<SignedIn> {
    const user = await this.login.authenticate({ email, password, ...context });
    if ((await this.mfa.methodsOf(user.id)).length > 0) throw new SecondFactorNotOnPagesException();
    return this.browserSessions.start(user.id, context, current);
  }

  /**
   * A new account, then signed in as on the sign-in form.
   * @throws WeakPasswordException, EmailTakenException, TooManyRegistrationsException as
   *   UsersService.register does
   */
  async signUp(
    email: string,
    password: string,
    context: RequestContext,
    current: BrowserSession | null = null,
  ): Promise<SignedIn> {
    await this.users.register(email, password, context);
    return this.signIn(email, password, context, current);
  }
}
