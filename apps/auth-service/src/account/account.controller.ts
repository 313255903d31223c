import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal } from '@tessera/auth-resource-server';
import { Public } from '@tessera/auth-token';
import type { Principal } from '@tessera/auth-token';
import { ApiErrors } from '@tessera/platform';
import type { FastifyRequest } from 'fastify';
import { contextOf } from '../auth/auth.service';
import { JsonBodyGuard, NOT_JSON_BODY } from '../auth/json-body.guard';
import {
  AcceptedResponse,
  AccountEmailResponse,
  AccountTokenDto,
  ChangeEmailDto,
  EmailDto,
  ResetPasswordDto,
  VerifyEmailDto,
} from './dto/account.dto';
import { EmailChangeService } from './email-change.service';
import { EmailVerificationService } from './email-verification.service';
import { PasswordResetService } from './password-reset.service';

const SAME_ANSWER = 'If an account has this address, a mail is on its way';
const INVALID_TOKEN = {
  status: 400,
  description: '`invalid_token`: the link or code is invalid, expired, used or superseded',
};
const TOO_MANY = {
  status: 429,
  description:
    '`too_many_requests`: ACCOUNT_MAIL_ADDRESS_LIMIT reached for this address; see Retry-After',
};

/**
 * Email verification, password reset and email change for first-party apps, as JSON
 * (docs/account-lifecycle.md). The links in the mails lead to pages under PUBLIC_URL, which post
 * their `token` here.
 */
@ApiTags('account')
@ApiErrors(503)
@UseGuards(JsonBodyGuard)
@Controller('auth')
export class AccountController {
  constructor(
    private readonly verification: EmailVerificationService,
    private readonly reset: PasswordResetService,
    private readonly emailChange: EmailChangeService,
  ) {}

  @ApiOperation({
    summary: 'Verifies the address: the link’s token, or the email with the mailed code',
  })
  @ApiOkResponse({ type: AccountEmailResponse })
  @ApiErrors(INVALID_TOKEN, NOT_JSON_BODY, TOO_MANY)
  @Public()
  @Post('email/verify')
  @HttpCode(200)
  async verifyEmail(
    @Body() body: VerifyEmailDto,
    @Req() request: FastifyRequest,
  ): Promise<AccountEmailResponse> {
    const user =
      body.token !== undefined
        ? await this.verification.verifyByToken(body.token, contextOf(request))
        : await this.verification.verifyByCode(
            body.email ?? '',
            body.code ?? '',
            contextOf(request),
          );
    return { email: user.email, email_verified: true };
  }

  @ApiOperation({
    summary: 'Mails a new verification link and code (the same answer for any address)',
  })
  @ApiAcceptedResponse({ type: AcceptedResponse })
  @ApiErrors(NOT_JSON_BODY, TOO_MANY)
  @Public()
  @Post('email/verification')
  @HttpCode(202)
  async resendVerification(
    @Body() body: EmailDto,
    @Req() request: FastifyRequest,
  ): Promise<AcceptedResponse> {
    await this.verification.resend(body.email, contextOf(request));
    return { message: SAME_ANSWER };
  }

  @ApiOperation({
    summary: 'Mails a password-reset link (the same answer, in the same time, for any address)',
  })
  @ApiAcceptedResponse({ type: AcceptedResponse })
  @ApiErrors(NOT_JSON_BODY, TOO_MANY)
  @Public()
  @Post('password/forgot')
  @HttpCode(202)
  async forgotPassword(
    @Body() body: EmailDto,
    @Req() request: FastifyRequest,
  ): Promise<AcceptedResponse> {
    await this.reset.request(body.email, contextOf(request));
    return { message: SAME_ANSWER };
  }

  @ApiOperation({
    summary: 'Sets a new password with a reset link’s token and ends every session of the account',
  })
  @ApiNoContentResponse({ description: 'Changed; sign in with the new password' })
  @ApiErrors(
    { status: 400, description: '`invalid_token`, or `weak_password`' },
    NOT_JSON_BODY,
    TOO_MANY,
  )
  @Public()
  @Post('password/reset')
  @HttpCode(204)
  async resetPassword(
    @Body() body: ResetPasswordDto,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    await this.reset.reset(body.token, body.new_password, contextOf(request));
  }

  @ApiOperation({
    summary: 'Asks to move the account to another address: a link goes to that address',
  })
  @ApiAcceptedResponse({ type: AcceptedResponse })
  @ApiErrors(
    { status: 400, description: '`wrong_current_password`' },
    { status: 409, description: '`email_taken`: an account has this address' },
    NOT_JSON_BODY,
    TOO_MANY,
  )
  @Post('email/change')
  @HttpCode(202)
  async changeEmail(
    @CurrentPrincipal() caller: Principal,
    @Body() body: ChangeEmailDto,
    @Req() request: FastifyRequest,
  ): Promise<AcceptedResponse> {
    await this.emailChange.request(
      caller.subject,
      body.new_email,
      body.password,
      contextOf(request),
    );
    return { message: 'A link is on its way to the new address' };
  }

  @ApiOperation({
    summary: 'Follows the new address’s link: the account takes it; the old address is told',
  })
  @ApiOkResponse({ type: AccountEmailResponse })
  @ApiErrors(INVALID_TOKEN, { status: 409, description: '`email_taken`' }, NOT_JSON_BODY)
  @Public()
  @Post('email/change/confirm')
  @HttpCode(200)
  async confirmEmailChange(
    @Body() body: AccountTokenDto,
    @Req() request: FastifyRequest,
  ): Promise<AccountEmailResponse> {
    const user = await this.emailChange.confirm(body.token, contextOf(request));
    return { email: user.email, email_verified: true };
  }

  @ApiOperation({
    summary: 'Follows the old address’s undo link: back to it, and every session ends',
  })
  @ApiOkResponse({ type: AccountEmailResponse })
  @ApiErrors(INVALID_TOKEN, { status: 409, description: '`email_taken`' }, NOT_JSON_BODY)
  @Public()
  @Post('email/change/undo')
  @HttpCode(200)
  async undoEmailChange(
    @Body() body: AccountTokenDto,
    @Req() request: FastifyRequest,
  ): Promise<AccountEmailResponse> {
    const user = await this.emailChange.undo(body.token, contextOf(request));
    return { email: user.email, email_verified: true };
  }
}
