import {
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
import { CsrfGuard } from './csrf.guard';
import { PageCookies } from './page-cookies';
import { PageErrorFilter } from './page-error.filter';
import { queryOf, readFields } from './page-form';
import { VIEWS_DIRECTORY } from './page-plugins';
import { PageRenderer } from './page-renderer';
import { PagesService } from './pages.service';
import { SignInResponder } from './sign-in.responder';

/** The hosted pages' one stylesheet, read once: restyle the pages by editing it. */
const STYLESHEET = readFileSync(join(VIEWS_DIRECTORY, 'pages.css'));
const WRONG_PASSWORD = [
  InvalidCredentialsException,
  'The email or password is not correct.',
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
      const refusal = this.responder.refusal(reply, error, [WRONG_PASSWORD]);
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
