import {
  BadRequestException,
  Controller,
  Get,
  Inject,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '@tessera/auth-token';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { contextOf } from '../auth/auth.service';
import type { BrowserSession } from '../authorization/authorization.repository';
import { AuthorizationService } from '../authorization/authorization.service';
import { BrowserSessionsService } from '../authorization/browser-sessions.service';
import { ConsentsService } from '../authorization/consents.service';
import { InvalidCredentialsException } from '../login/login.errors';
import { InvalidMfaTokenException, InvalidSecondFactorException } from '../mfa/mfa.errors';
import type { SecondFactorProof } from '../mfa/mfa.service';
import type { PasskeyAssertion } from '../mfa/passkeys/passkeys.service';
import { CsrfGuard } from './csrf.guard';
import { PageCookies } from './page-cookies';
import { PageErrorFilter } from './page-error.filter';
import { queryOf, readFields } from './page-form';
import { VIEWS_DIRECTORY } from './page-plugins';
import { PageRenderer } from './page-renderer';
import { PagesService } from './pages.service';
import type { SecondFactorStep } from './pages.service';
import { SignInResponder } from './sign-in.responder';

/** The hosted pages' one stylesheet, read once: restyle the pages by editing it. */
const STYLESHEET = readFileSync(join(VIEWS_DIRECTORY, 'pages.css'));
/**
 * Their one script, the passkey buttons' (WebAuthn), read once. Under /signin, so whatever routes
 * the sign-in pages (the gateway's `/signin` prefix) routes it too.
 */
const SCRIPT = readFileSync(join(VIEWS_DIRECTORY, 'passkeys.js'));

const WRONG_PASSWORD = [
  InvalidCredentialsException,
  'The email or password is not correct.',
] as const;
const WRONG_SECOND_FACTOR = [
  InvalidSecondFactorException,
  'That code is not correct, or it was used already.',
] as const;
const WRONG_PASSKEY = [InvalidSecondFactorException, 'That passkey was not accepted.'] as const;
const SIGN_IN_EXPIRED = [
  InvalidMfaTokenException,
  'This sign-in has expired or was finished already: enter your password again.',
] as const;

/**
 * The hosted pages: sign in (with a second factor when the account has one, or a passkey alone),
 * sign up and consent, each a GET that renders a form and a POST (CSRF-checked) that acts on it.
 * `continue` carries the authorization request to resume.
 */
@ApiExcludeController()
@Public()
@UseFilters(PageErrorFilter)
@Controller()
export class PagesController {
  constructor(
    private readonly pagesService: PagesService,
    private readonly authorization: AuthorizationService,
    private readonly browserSessions: BrowserSessionsService,
    private readonly consents: ConsentsService,
    private readonly pages: PageRenderer,
    private readonly responder: SignInResponder,
    @Inject(PageCookies) private readonly cookies: PageCookies,
  ) {}

  @Get('pages.css')
  stylesheet(@Res() reply: FastifyReply): void {
    reply
      .type('text/css; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .send(STYLESHEET);
  }

  @Get('signin/passkeys.js')
  script(@Res() reply: FastifyReply): void {
    reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .send(SCRIPT);
  }

  @Get('signin')
  async signInPage(@Query() query: unknown, @Res() reply: FastifyReply): Promise<void> {
    const fields = readFields(query, ['continue', 'login_hint']);
    await this.responder.form(reply, 'signin', {
      email: fields.login_hint ?? '',
      continue: fields.continue,
    });
  }

  @Post('signin')
  @UseGuards(CsrfGuard)
  async signIn(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const form = readFields(request.body, ['email', 'password', 'continue']);
    const signedIn = await this.attempt(request, reply, 'signin', form, (current) =>
      this.pagesService.signIn(form.email ?? '', form.password ?? '', contextOf(request), current),
    );
    if (!signedIn) return;
    if ('token' in signedIn) return this.responder.signedIn(reply, signedIn, form.continue);
    await this.responder.secondFactor(reply, signedIn, form.continue);
  }

  /** A signed-in browser whose sign-in did not reach the `acr_values` of the request. */
  @Get('signin/second-factor')
  async secondFactorPage(
    @Query() query: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const resume = readFields(query, ['continue']).continue ?? '';
    const current = await this.browserSessions.find(this.cookies.sessionOf(request));
    const step = current && (await this.pagesService.secondFactorStep(undefined, current));
    if (!step || step.methods.length === 0)
      return void reply.redirect(this.authorization.resumeLocation(resume), 303);
    await this.responder.secondFactor(reply, step, resume);
  }

  @Post('signin/second-factor')
  @UseGuards(CsrfGuard)
  async secondFactor(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const form = readFields(request.body, ['mfa_token', 'code', 'passkey', 'continue']);
    const current = await this.browserSessions.find(this.cookies.sessionOf(request));
    const proof = proofOf(form);
    try {
      const signedIn = await this.pagesService.completeSecondFactor(
        form.mfa_token,
        proof,
        contextOf(request),
        current,
      );
      return await this.responder.signedIn(reply, signedIn, form.continue);
    } catch (error) {
      const refusal = this.responder.refusal(reply, error, [SIGN_IN_EXPIRED, WRONG_SECOND_FACTOR]);
      if (!refusal) throw error;
      const step = await this.pagesService
        .secondFactorStep(form.mfa_token, current)
        .catch((): SecondFactorStep | undefined => undefined);
      if (error instanceof InvalidMfaTokenException || !step) {
        const signInAgain = { email: '', continue: form.continue, error: refusal.error };
        return this.responder.form(reply, 'signin', signInAgain, refusal.status);
      }
      await this.responder.secondFactor(reply, step, form.continue, refusal);
    }
  }

  /** A passwordless sign-in: the discoverable passkey `passkeys.js` asked the browser for. */
  @Post('signin/passkey')
  @UseGuards(CsrfGuard)
  async passkeySignIn(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const form = readFields(request.body, ['passkey', 'continue']);
    const assertion = proofOf(form).passkey;
    if (!assertion) throw invalidForm('passkey');
    const signedIn = await this.attempt(request, reply, 'signin', form, (current) =>
      this.pagesService.signInWithPasskey(assertion, contextOf(request), current),
    );
    if (signedIn) await this.responder.signedIn(reply, signedIn, form.continue);
  }

  /** WebAuthn options for `passkeys.js`: its form's CSRF token and `mfa_token` come along. */
  @Post('signin/passkey-options')
  @UseGuards(CsrfGuard)
  async passkeyOptions(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const form = readFields(request.body, ['purpose', 'mfa_token']);
    if (form.purpose !== 'sign-in' && form.purpose !== 'second-factor')
      throw invalidForm('purpose');
    const current = await this.browserSessions.find(this.cookies.sessionOf(request));
    const options = await this.pagesService.passkeyOptions(form.purpose, form.mfa_token, current);
    reply.header('cache-control', 'no-store').send(options);
  }

  @Get('signup')
  async signUpPage(@Query() query: unknown, @Res() reply: FastifyReply): Promise<void> {
    const fields = readFields(query, ['continue']);
    await this.responder.form(reply, 'signup', { email: '', continue: fields.continue });
  }

  @Post('signup')
  @UseGuards(CsrfGuard)
  async signUp(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const form = readFields(request.body, ['email', 'password', 'continue']);
    const signedIn = await this.attempt(request, reply, 'signup', form, (current) =>
      this.pagesService.signUp(form.email ?? '', form.password ?? '', contextOf(request), current),
    );
    if (signedIn) await this.responder.signedIn(reply, signedIn, form.continue);
  }

  @Get('consent')
  async consentPage(
    @Query() query: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const fields = readFields(query, ['continue']);
    const resume = fields.continue ?? '';
    const browser = await this.browserSessions.find(this.cookies.sessionOf(request));
    if (!browser) return void reply.redirect(this.authorization.resumeLocation(resume), 303);
    const {
      target,
      request: authorization,
      error,
    } = await this.authorization.read(queryOf(resume));
    if (!authorization) return void reply.redirect(error as string, 303);
    await this.pages.render(
      reply,
      'consent',
      {
        title: `Allow ${target.client.id}?`,
        clientId: target.client.id,
        scopes: authorization.scope.split(' '),
        continue: resume,
      },
      { formTargets: [target.redirectUri] },
    );
  }

  @Post('consent')
  @UseGuards(CsrfGuard)
  async consent(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const form = readFields(request.body, ['decision', 'continue']);
    const resume = form.continue ?? '';
    const browser = await this.browserSessions.find(this.cookies.sessionOf(request));
    const {
      target,
      request: authorization,
      error,
    } = await this.authorization.read(queryOf(resume));
    if (!browser || !authorization)
      return void reply.redirect(error ?? this.authorization.resumeLocation(resume), 303);
    if (form.decision !== 'allow')
      return void reply.redirect(this.authorization.deniedLocation(target), 303);
    await this.consents.grant(browser.userId, target.client.id, authorization.scope);
    reply.redirect(this.authorization.resumeLocation(resume), 303);
  }

  /**
   * Runs a sign-in or sign-up; a refusal the person can act on (wrong credentials, throttled,
   * weak password, taken email) renders the form again with the message and the right status.
   */
  private async attempt<Result>(
    request: FastifyRequest,
    reply: FastifyReply,
    view: 'signin' | 'signup',
    form: { email?: string; continue?: string },
    action: (current: BrowserSession | null) => Promise<Result>,
  ): Promise<Result | undefined> {
    const current = await this.browserSessions.find(this.cookies.sessionOf(request));
    try {
      return await action(current);
    } catch (error) {
      const refusal = this.responder.refusal(reply, error, [WRONG_PASSWORD, WRONG_PASSKEY]);
      if (!refusal) throw error;
      await this.responder.form(
        reply,
        view,
        { email: form.email ?? '', continue: form.continue, error: refusal.error },
        refusal.status,
      );
      return undefined;
    }
  }
}

/** The one second factor a form sent: a passkey assertion (JSON), a TOTP code or a recovery code. */
function proofOf(form: { code?: string; passkey?: string }): SecondFactorProof {
  if (form.passkey !== undefined) {
    const assertion = parseObject(form.passkey);
    if (!assertion) throw invalidForm('passkey');
    return { passkey: assertion as unknown as PasskeyAssertion };
  }
  const code = form.code?.replace(/\s/g, '');
  if (!code) throw invalidForm('code');
  return /^\d{6}$/.test(code) ? { code } : { recoveryCode: code };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function invalidForm(field: string): BadRequestException {
  return new BadRequestException({
    error: 'invalid_request',
    message: `The field ${field} is missing or not valid`,
  });
}
