import {
  Controller,
  Get,
  HttpException,
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
import { contextOf } from '../auth/auth.service';
import { ACCOUNT_LINK_PATHS } from '../mail/mail.composer';
import { CsrfGuard } from '../pages/csrf.guard';
import { PageErrorFilter } from '../pages/page-error.filter';
import { readFields } from '../pages/page-form';
import { PageRenderer } from '../pages/page-renderer';
import type { RequestOrigin } from '../users/users.service';
import { EmailChangeService } from './email-change.service';
import { EmailVerificationService } from './email-verification.service';
import { PasswordResetService } from './password-reset.service';

/** A page whose form posts a mailed link's token: what it says and what its button does. */
interface TokenPage {
  title: string;
  explanation: string;
  button: string;
  done: string;
  act: (token: string, origin: RequestOrigin & { clientAddress: string }) => Promise<unknown>;
}

/**
 * The hosted pages the links in account mail open (docs/account-lifecycle.md), in the layout of
 * the sign-in pages: each GET renders a form, each POST (CSRF-checked) acts through the same
 * services as the JSON API. Opening a link changes nothing: mail scanners open links too.
 */
@ApiExcludeController()
@Public()
@UseFilters(PageErrorFilter)
@Controller()
export class AccountPagesController {
  private readonly tokenPages: Record<'verify' | 'confirm' | 'undo', TokenPage & { path: string }>;

  constructor(
    private readonly pages: PageRenderer,
    private readonly reset: PasswordResetService,
    verification: EmailVerificationService,
    emailChange: EmailChangeService,
  ) {
    this.tokenPages = {
      verify: {
        path: ACCOUNT_LINK_PATHS.verifyEmail,
        title: 'Confirm your email address',
        explanation: 'Confirm that this address is yours.',
        button: 'Confirm my address',
        done: 'Your email address is confirmed.',
        act: (token, origin) => verification.verifyByToken(token, origin),
      },
      confirm: {
        path: ACCOUNT_LINK_PATHS.confirmEmailChange,
        title: 'Use your new email address',
        explanation: 'Confirm that your account should use this address from now on.',
        button: 'Use this address',
        done: 'Your account uses its new address; the old one was told, and can undo it.',
        act: (token, origin) => emailChange.confirm(token, origin),
      },
      undo: {
        path: ACCOUNT_LINK_PATHS.undoEmailChange,
        title: 'Undo the email change',
        explanation:
          'Put your account back on this address. Every device signed in to it is signed out; reset your password if someone else changed it.',
        button: 'Undo the change',
        done: 'Your account is back on this address, and every device was signed out.',
        act: (token, origin) => emailChange.undo(token, origin),
      },
    };
  }

  @Get(ACCOUNT_LINK_PATHS.forgotPassword)
  async forgotPage(@Res() reply: FastifyReply): Promise<void> {
    await this.pages.render(reply, 'account-forgot', { title: 'Forgot your password?', email: '' });
  }

  @Post(ACCOUNT_LINK_PATHS.forgotPassword)
  @UseGuards(CsrfGuard)
  async forgot(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const form = readFields(request.body, ['email']);
    const page = { title: 'Forgot your password?', email: form.email ?? '' };
    await this.attempt(reply, 'account-forgot', page, async () => {
      await this.reset.request(form.email ?? '', contextOf(request));
      return 'If an account has this address, a link is on its way. It works for a short while.';
    });
  }

  @Get(ACCOUNT_LINK_PATHS.resetPassword)
  async resetPage(@Query() query: unknown, @Res() reply: FastifyReply): Promise<void> {
    const { token } = readFields(query, ['token']);
    await this.pages.render(reply, 'account-reset', {
      title: 'Choose a new password',
      token: token ?? '',
    });
  }

  @Post(ACCOUNT_LINK_PATHS.resetPassword)
  @UseGuards(CsrfGuard)
  async resetPassword(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const form = readFields(request.body, ['token', 'new_password']);
    const page = { title: 'Choose a new password', token: form.token ?? '' };
    await this.attempt(reply, 'account-reset', page, async () => {
      await this.reset.reset(form.token ?? '', form.new_password ?? '', contextOf(request));
      return 'Your password was changed, and every device was signed out. Sign in with the new one.';
    });
  }

  @Get(ACCOUNT_LINK_PATHS.verifyEmail)
  verifyPage(@Query() query: unknown, @Res() reply: FastifyReply) {
    return this.renderTokenPage(reply, this.tokenPages.verify, query);
  }

  @Post(ACCOUNT_LINK_PATHS.verifyEmail)
  @UseGuards(CsrfGuard)
  verify(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.actOnToken(request, reply, this.tokenPages.verify);
  }

  @Get(ACCOUNT_LINK_PATHS.confirmEmailChange)
  confirmPage(@Query() query: unknown, @Res() reply: FastifyReply) {
    return this.renderTokenPage(reply, this.tokenPages.confirm, query);
  }

  @Post(ACCOUNT_LINK_PATHS.confirmEmailChange)
  @UseGuards(CsrfGuard)
  confirm(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.actOnToken(request, reply, this.tokenPages.confirm);
  }

  @Get(ACCOUNT_LINK_PATHS.undoEmailChange)
  undoPage(@Query() query: unknown, @Res() reply: FastifyReply) {
    return this.renderTokenPage(reply, this.tokenPages.undo, query);
  }

  @Post(ACCOUNT_LINK_PATHS.undoEmailChange)
  @UseGuards(CsrfGuard)
  undo(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.actOnToken(request, reply, this.tokenPages.undo);
  }

  private async renderTokenPage(
    reply: FastifyReply,
    page: TokenPage & { path: string },
    query: unknown,
  ) {
    const { token } = readFields(query, ['token']);
    await this.pages.render(reply, 'account-token', {
      ...page,
      action: page.path,
      token: token ?? '',
    });
  }

  private async actOnToken(
    request: FastifyRequest,
    reply: FastifyReply,
    page: TokenPage & { path: string },
  ): Promise<void> {
    const { token } = readFields(request.body, ['token']);
    await this.attempt(
      reply,
      'account-token',
      { ...page, action: page.path, token: token ?? '' },
      async () => {
        await page.act(token ?? '', contextOf(request));
        return page.done;
      },
    );
  }

  /**
   * Runs the step: its message on success; a refusal the person can act on (a dead link, a weak
   * password, too many requests) renders the form again with the message and the status.
   */
  private async attempt(
    reply: FastifyReply,
    view: string,
    data: Record<string, unknown> & { title: string },
    step: () => Promise<string>,
  ): Promise<void> {
    let message: string;
    try {
      message = await step();
    } catch (error) {
      if (!(error instanceof HttpException) || error.getStatus() >= 500) throw error;
      const retryAfter = (error as { headers?: Record<string, string> }).headers?.['Retry-After'];
      if (retryAfter) reply.header('retry-after', retryAfter);
      const text = String((error.getResponse() as { message?: unknown }).message ?? error.message);
      await this.pages.render(reply, view, { ...data, error: text }, { status: error.getStatus() });
      return;
    }
    await this.pages.render(reply, 'message', { title: data.title, message });
  }
}
