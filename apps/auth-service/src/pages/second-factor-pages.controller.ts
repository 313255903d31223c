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
import { AuthorizationService } from '../authorization/authorization.service';
import { BrowserSessionsService } from '../authorization/browser-sessions.service';
import {
  InvalidMfaTokenException,
  InvalidSecondFactorException,
  PendingSignInElsewhereException,
} from '../mfa/mfa.errors';
import type { SecondFactorProof } from '../mfa/mfa.service';
import type { PasskeyAssertion } from '../mfa/passkeys/passkeys.service';
import { CsrfGuard } from './csrf.guard';
import { PageCookies } from './page-cookies';
import { PageErrorFilter } from './page-error.filter';
import { readFields } from './page-form';
import { VIEWS_DIRECTORY } from './page-plugins';
import { PagesService } from './pages.service';
import type { SecondFactorStep } from './pages.service';
import { SignInResponder } from './sign-in.responder';

/**
 * Their one script, the passkey buttons' (WebAuthn), read once. Under /signin, so whatever routes
 * the sign-in pages (the gateway's `/signin` prefix) routes it too.
 */
const SCRIPT = readFileSync(join(VIEWS_DIRECTORY, 'passkeys.js'));

const WRONG_SECOND_FACTOR = [
  InvalidSecondFactorException,
  'That code is not correct, or it was used already.',
] as const;
const SIGN_IN_EXPIRED = [
  InvalidMfaTokenException,
  'This sign-in has expired or was finished already: enter your password again.',
] as const;
const OTHER_BROWSER = [
  PendingSignInElsewhereException,
  'This sign-in was started in another browser, or this browser did not keep its cookie: enter your password again here.',
] as const;
const WRONG_PASSKEY = [InvalidSecondFactorException, 'That passkey was not accepted.'] as const;

/**
 * The sign-in pages' second step and passkeys: the second-factor form (after the password, or for
 * a signed-in browser that `acr_values` asks more of), a passwordless sign-in with a passkey, and
 * the script and WebAuthn options the passkey buttons use. The password form itself is
 * PagesController's.
 */
@ApiExcludeController()
@Public()
@UseFilters(PageErrorFilter)
@Controller('signin')
export class SecondFactorPagesController {
  constructor(
    private readonly pagesService: PagesService,
    private readonly authorization: AuthorizationService,
    private readonly browserSessions: BrowserSessionsService,
    private readonly responder: SignInResponder,
    @Inject(PageCookies) private readonly cookies: PageCookies,
  ) {}

  @Get('passkeys.js')
  script(@Res() reply: FastifyReply): void {
    reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .send(SCRIPT);
  }

  /** A signed-in browser whose sign-in did not reach the `acr_values` of the request. */
  @Get('second-factor')
  async secondFactorPage(
    @Query() query: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const resume = readFields(query, ['continue']).continue ?? '';
    const current = await this.browserSessions.find(this.cookies.sessionOf(request));
    const step = current && (await this.pagesService.secondFactorStep({}, current));
    if (!step || step.methods.length === 0)
      return void reply.redirect(this.authorization.resumeLocation(resume), 303);
    await this.responder.secondFactor(reply, step, resume);
  }

  @Post('second-factor')
  @UseGuards(CsrfGuard)
  async secondFactor(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const form = readFields(request.body, ['mfa_token', 'code', 'passkey', 'continue']);
    const current = await this.browserSessions.find(this.cookies.sessionOf(request));
    const proof = proofOf(form);
    const pending = { mfaToken: form.mfa_token, browser: this.cookies.pendingSignInOf(request) };
    try {
      const signedIn = await this.pagesService.completeSecondFactor(
        pending,
        proof,
        contextOf(request),
        current,
      );
      if (pending.mfaToken !== undefined) this.cookies.clearPendingSignIn(reply);
      return await this.responder.signedIn(reply, signedIn, form.continue);
    } catch (error) {
      const refusal = this.responder.refusal(reply, error, [
        SIGN_IN_EXPIRED,
        OTHER_BROWSER,
        WRONG_SECOND_FACTOR,
      ]);
      if (!refusal) throw error;
      const step = await this.pagesService
        .secondFactorStep(pending, current)
        .catch((): SecondFactorStep | undefined => undefined);
      if (error instanceof InvalidMfaTokenException || !step) {
        const signInAgain = { email: '', continue: form.continue, error: refusal.error };
        return this.responder.form(reply, 'signin', signInAgain, refusal.status);
      }
      await this.responder.secondFactor(reply, step, form.continue, refusal);
    }
  }

  /** A passwordless sign-in: the discoverable passkey `passkeys.js` asked the browser for. */
  @Post('passkey')
  @UseGuards(CsrfGuard)
  async passkeySignIn(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const form = readFields(request.body, ['passkey', 'continue']);
    const assertion = proofOf(form).passkey;
    if (!assertion) throw invalidForm('passkey');
    const current = await this.browserSessions.find(this.cookies.sessionOf(request));
    try {
      const signedIn = await this.pagesService.signInWithPasskey(
        assertion,
        contextOf(request),
        current,
      );
      return await this.responder.signedIn(reply, signedIn, form.continue);
    } catch (error) {
      const refusal = this.responder.refusal(reply, error, [WRONG_PASSKEY]);
      if (!refusal) throw error;
      const signInAgain = { email: '', continue: form.continue, error: refusal.error };
      await this.responder.form(reply, 'signin', signInAgain, refusal.status);
    }
  }

  /** WebAuthn options for `passkeys.js`: its form's CSRF token and `mfa_token` come along. */
  @Post('passkey-options')
  @UseGuards(CsrfGuard)
  async passkeyOptions(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const form = readFields(request.body, ['purpose', 'mfa_token']);
    if (form.purpose !== 'sign-in' && form.purpose !== 'second-factor')
      throw invalidForm('purpose');
    const current = await this.browserSessions.find(this.cookies.sessionOf(request));
    const pending = { mfaToken: form.mfa_token, browser: this.cookies.pendingSignInOf(request) };
    const options = await this.pagesService.passkeyOptions(
      form.purpose,
      pending,
      contextOf(request),
      current,
    );
    reply.header('cache-control', 'no-store').send(options);
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
