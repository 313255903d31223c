import { Injectable } from '@nestjs/common';
import { AMR } from '@tessera/auth-token';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { RequestContext } from '../auth/auth.service';
import type { BrowserSession } from '../authorization/authorization.repository';
import { BrowserSessionsService } from '../authorization/browser-sessions.service';
import { InvalidCredentialsException } from '../login/login.errors';
import { LoginService } from '../login/login.service';
import { InvalidMfaTokenException, PendingSignInElsewhereException } from '../mfa/mfa.errors';
import type { SecondFactorMethod } from '../mfa/mfa.errors';
import { MfaService } from '../mfa/mfa.service';
import type { SecondFactorProof } from '../mfa/mfa.service';
import { PasskeysService } from '../mfa/passkeys/passkeys.service';
import type { PasskeyAssertion } from '../mfa/passkeys/passkeys.service';
import { browserSecret, PendingSignInsService } from '../mfa/pending-sign-ins.service';
import { UsersService } from '../users/users.service';

/** A browser that has just signed in: the cookie's token and its session row. */
export interface SignedIn {
  token: string;
  session: BrowserSession;
}

/**
 * A sign-in that waits for its second factor: the form's `mfa_token` after a password (absent
 * when the signed-in browser steps up for `acr_values`), and the methods the page offers.
 */
export interface SecondFactorStep {
  mfaToken?: string;
  methods: SecondFactorMethod[];
  /** Right after the password: the value of the cookie that binds the pending sign-in to this browser. */
  browser?: string;
}

/**
 * What a second-factor form brings back: its `mfa_token` (none for a signed-in browser's step-up)
 * and the browser's pending-sign-in cookie, which must be the one set with the form.
 */
export interface PendingSignInForm {
  mfaToken?: string;
  browser?: string;
}

/**
 * What the sign-in and sign-up forms do. Sign-in is LoginService.authenticate, the one
 * `/auth/login` uses: the same throttling (429 with Retry-After), the same single answer for an
 * unknown email, a wrong password and a disabled account (I9, I10, A6). An account with a second
 * factor then gets a pending sign-in (as `/auth/login` answers `mfa_required`), and the page
 * session starts only once MfaService.verify accepted the factor: the same lock-out, replay
 * refusal and audit as `POST /auth/login/second-factor`.
 */
@Injectable()
export class PagesService {
  constructor(
    private readonly login: LoginService,
    private readonly users: UsersService,
    private readonly browserSessions: BrowserSessionsService,
    private readonly mfa: MfaService,
    private readonly passkeys: PasskeysService,
    private readonly pendingSignIns: PendingSignInsService,
  ) {}

  /**
   * @returns the signed-in browser, or for an account with a second factor the step to ask it
   * @throws TooManyLoginAttemptsException, InvalidCredentialsException as LoginService does
   */
  async signIn(
    email: string,
    password: string,
    context: RequestContext,
    current: BrowserSession | null = null,
  ): Promise<SignedIn | SecondFactorStep> {
    const user = await this.login.authenticate({ email, password, ...context });
    const methods = await this.mfa.methodsOf(user.id);
    if (methods.length === 0) return this.browserSessions.start(user.id, context, current);
    const browser = browserSecret();
    const mfaToken = await this.pendingSignIns.create(
      { userId: user.id, scope: '', audiences: [] },
      'page',
      browser,
    );
    return { mfaToken, methods, browser };
  }

  /** What the second-factor page offers for the form's pending sign-in, or the signed-in browser's user. */
  async secondFactorStep(
    form: PendingSignInForm,
    current: BrowserSession | null,
  ): Promise<SecondFactorStep> {
    const { userId } = await this.secondStepOf(form, current);
    return {
      ...(form.mfaToken !== undefined && { mfaToken: form.mfaToken }),
      methods: await this.mfa.methodsOf(userId),
    };
  }

  /**
   * The second factor of a pending sign-in (the form's `mfa_token`, from the browser that typed
   * the password), or the signed-in browser's step-up.
   * @returns the browser signed in with `amr` `pwd` (after the password; on a step-up, the
   *   session's own methods) + the factor's methods + `mfa`
   * @throws InvalidMfaTokenException (401) for an unknown, spent or expired token, or no session
   * @throws PendingSignInElsewhereException (403) from a browser without the pending sign-in's
   *   cookie: nothing is checked or spent
   * @throws TooManySecondFactorAttemptsException (429), InvalidSecondFactorException (401) as
   *   MfaService.verify does
   */
  async completeSecondFactor(
    form: PendingSignInForm,
    proof: SecondFactorProof,
    context: RequestContext,
    current: BrowserSession | null,
  ): Promise<SignedIn> {
    const { userId, pendingId } = await this.secondStepOf(form, current);
    const check = () => this.mfa.verify(userId, proof, context);
    // Two submissions racing: one checks and spends the pending sign-in, the other checks nothing.
    const methods =
      pendingId === undefined
        ? await check()
        : await this.pendingSignIns.complete(pendingId, check);
    const user = await this.users.findById(userId);
    if (!user || user.disabledAt) throw new InvalidCredentialsException();
    // After the password: pwd. A signed-in browser's step-up: the methods it signed in with, so
    // `amr` never names a password nobody typed.
    const before =
      pendingId !== undefined
        ? [AMR.password]
        : (current?.amr ?? []).filter((method) => method !== AMR.multiFactor);
    return this.browserSessions.start(user.id, context, current, [
      ...new Set([...before, ...methods, AMR.multiFactor]),
    ]);
  }

  /**
   * WebAuthn options for the page's passkey button: the pending (or signed-in) user's passkeys
   * as a second factor, or any discoverable passkey for a passwordless sign-in (throttled per
   * client address: MfaService.passwordlessOptions).
   */
  async passkeyOptions(
    purpose: 'second-factor' | 'sign-in',
    form: PendingSignInForm,
    context: RequestContext,
    current: BrowserSession | null,
  ): Promise<PublicKeyCredentialRequestOptionsJSON> {
    if (purpose === 'sign-in') return this.mfa.passwordlessOptions(context);
    const { userId } = await this.secondStepOf(form, current);
    return this.passkeys.authenticationOptions(userId);
  }

  /**
   * A passwordless sign-in with a discoverable passkey (user verification required), as
   * `POST /auth/login/passkey` does it: `amr` `hwk user mfa`.
   * @throws InvalidSecondFactorException (401) when it does not verify, or the account is disabled
   */
  async signInWithPasskey(
    assertion: PasskeyAssertion,
    context: RequestContext,
    current: BrowserSession | null,
  ): Promise<SignedIn> {
    const user = await this.mfa.passkeySignIn(assertion, context);
    return this.browserSessions.start(user.id, context, current, [
      AMR.hardwareKey,
      AMR.userPresence,
      AMR.multiFactor,
    ]);
  }

  /**
   * A new account, then signed in as on the sign-in form (a new account has no second factor).
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
    const user = await this.login.authenticate({ email, password, ...context });
    return this.browserSessions.start(user.id, context, current);
  }

  /**
   * The user a second step is for: the pending sign-in's, if this browser is the one it is bound
   * to (a leaked form alone finishes nothing), else the signed-in browser's.
   */
  private async secondStepOf(
    form: PendingSignInForm,
    current: BrowserSession | null,
  ): Promise<{ userId: string; pendingId?: string }> {
    if (form.mfaToken === undefined) {
      if (!current) throw new InvalidMfaTokenException();
      return { userId: current.userId };
    }
    const pending = await this.pendingSignIns.find(form.mfaToken, 'page');
    if (!pending) throw new InvalidMfaTokenException();
    if (!this.pendingSignIns.isBoundTo(pending, form.browser))
      throw new PendingSignInElsewhereException();
    return { userId: pending.userId, pendingId: pending.id };
  }
}
