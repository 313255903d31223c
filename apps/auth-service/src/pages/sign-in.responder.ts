import { HttpException, Inject, Injectable } from '@nestjs/common';
import type { HttpExceptionWithHeaders } from '@tessera/platform';
import type { FastifyReply } from 'fastify';
import { AuthorizationService } from '../authorization/authorization.service';
import type { SecondFactorMethod } from '../mfa/mfa.errors';
import { PageCookies } from './page-cookies';
import { queryOf } from './page-form';
import { PageRenderer } from './page-renderer';
import type { SecondFactorStep, SignedIn } from './pages.service';

/** What the second-factor page says it takes, by the methods the account has. */
const CODE_HINTS: Record<string, string> = {
  totp: 'Enter the six-digit code from your authenticator app, or one of your recovery codes.',
  recovery_code: 'Enter one of your recovery codes, or use your passkey.',
};

/**
 * The answers the sign-in pages share: the sign-in (or sign-up) form, the second-factor form,
 * and the signed-in browser's way back to the authorization request. Every form may end at the
 * client's redirect URI, which its CSP `form-action` names.
 */
@Injectable()
export class SignInResponder {
  constructor(
    private readonly authorization: AuthorizationService,
    private readonly pages: PageRenderer,
    @Inject(PageCookies) private readonly cookies: PageCookies,
  ) {}

  /** Sets the page-session cookie, then resumes the authorization request (or says so). */
  async signedIn(
    reply: FastifyReply,
    signedIn: SignedIn,
    resume: string | undefined,
  ): Promise<void> {
    this.cookies.setSession(reply, signedIn.token);
    if (resume !== undefined)
      return void reply.redirect(this.authorization.resumeLocation(resume), 303);
    await this.pages.render(reply, 'message', {
      title: 'You are signed in',
      message: 'You can close this page.',
    });
  }

  /** A sign-in or sign-up form, with a passkey button on the sign-in one. */
  async form(
    reply: FastifyReply,
    view: 'signin' | 'signup',
    data: { email: string; continue?: string; error?: string },
    status = 200,
  ): Promise<void> {
    await this.pages.render(
      reply,
      view,
      {
        title: view === 'signin' ? 'Sign in' : 'Create an account',
        ...data,
        continue: data.continue ?? '',
      },
      { status, formTargets: await this.formTargets(data.continue), script: view === 'signin' },
    );
  }

  /**
   * The second step: a code field for TOTP or recovery codes, a passkey button for a passkey.
   * Right after the password it also sets the cookie that binds the pending sign-in to this browser.
   */
  async secondFactor(
    reply: FastifyReply,
    step: SecondFactorStep,
    resume: string | undefined,
    refusal?: { error: string; status: number },
  ): Promise<void> {
    if (step.browser !== undefined) this.cookies.setPendingSignIn(reply, step.browser);
    const has = (method: SecondFactorMethod) => step.methods.includes(method);
    await this.pages.render(
      reply,
      'second-factor',
      {
        title: 'Confirm it is you',
        hint: CODE_HINTS[has('totp') ? 'totp' : 'recovery_code'],
        codes: has('totp') || has('recovery_code'),
        passkey: has('passkey'),
        mfaToken: step.mfaToken ?? '',
        continue: resume ?? '',
        error: refusal?.error,
      },
      {
        status: refusal?.status ?? 200,
        formTargets: await this.formTargets(resume),
        script: has('passkey'),
      },
    );
  }

  /**
   * A refusal the person can act on (wrong credentials or code, throttled, weak password, taken
   * email): its message and status, with its headers (Retry-After) set on the reply; undefined
   * for anything else, which the caller rethrows.
   */
  refusal(
    reply: FastifyReply,
    error: unknown,
    messages: readonly (readonly [new (...args: never[]) => HttpException, string])[],
  ): { error: string; status: number } | undefined {
    if (!(error instanceof HttpException) || error.getStatus() >= 500) return undefined;
    for (const [name, value] of Object.entries((error as HttpExceptionWithHeaders).headers ?? {}))
      reply.header(name, value);
    const known = messages.find(([type]) => error instanceof type);
    const message =
      known?.[1] ?? String((error.getResponse() as { message?: unknown }).message ?? error.message);
    return { error: message, status: error.getStatus() };
  }

  private async formTargets(resume: string | undefined): Promise<string[]> {
    if (resume === undefined) return [];
    const { target } = await this.authorization
      .read(queryOf(resume))
      .catch(() => ({ target: undefined }));
    return target ? [target.redirectUri] : [];
  }
}
