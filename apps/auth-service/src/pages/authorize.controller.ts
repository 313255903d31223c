import { Controller, Get, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '@tessera/auth-token';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { contextOf } from '../auth/auth.service';
import { AuthorizationService } from '../authorization/authorization.service';
import { BrowserSessionsService } from '../authorization/browser-sessions.service';
import { EndSessionService } from '../authorization/end-session.service';
import type { CheckedEndSession } from '../authorization/end-session.service';
import { CsrfGuard } from './csrf.guard';
import { PageCookies } from './page-cookies';
import { PageErrorFilter } from './page-error.filter';
import { readFields } from './page-form';
import { PageRenderer } from './page-renderer';

const END_SESSION_FIELDS = [
  'id_token_hint',
  'client_id',
  'post_logout_redirect_uri',
  'state',
] as const;

/**
 * The browser-facing OAuth endpoints: `authorization_endpoint` (RFC 6749 §4.1.1) and
 * `end_session_endpoint` (OpenID Connect RP-Initiated Logout 1.0). Errors that cannot go back to
 * a client are pages (PageErrorFilter).
 */
@ApiExcludeController()
@Public()
@UseFilters(PageErrorFilter)
@Controller('oauth')
export class AuthorizeController {
  constructor(
    private readonly authorization: AuthorizationService,
    private readonly browserSessions: BrowserSessionsService,
    private readonly endSession: EndSessionService,
    private readonly cookies: PageCookies,
    private readonly pages: PageRenderer,
  ) {}

  @Get('authorize')
  async authorize(
    @Query() query: Record<string, string | string[]>,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const browser = await this.browserSessions.find(this.cookies.sessionOf(request));
    const location = await this.authorization.authorize(query, browser);
    reply.header('cache-control', 'no-store').redirect(location, 302);
  }

  /**
   * With a valid `id_token_hint` the sign-out happens at once; without one the person confirms
   * it on a form, so a link on another site cannot sign them out unasked.
   */
  @Get('end_session')
  async endSessionPage(
    @Query() query: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const fields = readFields(query, END_SESSION_FIELDS);
    const checked = await this.endSession.check(fields);
    if (checked.hint) return this.signOut(checked, request, reply);
    await this.pages.render(
      reply,
      'signout',
      { title: 'Sign out?', ...fields },
      { formTargets: checked.location ? [checked.location.split('?')[0] as string] : [] },
    );
  }

  @Post('end_session')
  @UseGuards(CsrfGuard)
  async endSessionConfirmed(
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const checked = await this.endSession.check(readFields(request.body, END_SESSION_FIELDS));
    await this.signOut(checked, request, reply);
  }

  private async signOut(
    checked: CheckedEndSession,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    const browser = await this.browserSessions.find(this.cookies.sessionOf(request));
    await this.endSession.end(checked, browser, contextOf(request));
    this.cookies.clearSession(reply);
    if (checked.location)
      return void reply.header('cache-control', 'no-store').redirect(checked.location, 303);
    await this.pages.render(reply, 'message', {
      title: 'You are signed out',
      message: 'You can close this page.',
    });
  }
}
