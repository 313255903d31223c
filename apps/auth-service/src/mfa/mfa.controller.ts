import { Body, Controller, Delete, Get, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import {
  CurrentPrincipal,
  invalidBearerToken,
  RequireAuthentication,
} from '@tessera/auth-resource-server';
import type { Principal } from '@tessera/auth-token';
import { ApiErrors } from '@tessera/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { JsonBodyGuard, NOT_JSON_BODY } from '../auth/json-body.guard';
import { noStore } from '../auth/token-response';
import { TotpCodeDto } from './dto/totp-code.dto';
import {
  MfaStatusResponse,
  RecoveryCodesResponse,
  TotpEnrolmentResponse,
} from './dto/mfa.responses';
import { contextOf } from '../auth/auth.service';
import { FRESH_SECOND_FACTOR } from './fresh-second-factor';
import { MfaService } from './mfa.service';
import { UsersService } from '../users/users.service';

const NEEDS_FRESH_SECOND_FACTOR = {
  status: 401,
  description:
    '`insufficient_user_authentication` (RFC 9470): sign in again with a second factor, then retry within 5 minutes',
};
const WRONG_CODE = {
  status: 401,
  description: '`invalid_second_factor`: the code is wrong or used',
};

/** The caller's authenticator app (TOTP) and recovery codes. */
@ApiTags('second factors')
@ApiErrors(503)
@UseGuards(JsonBodyGuard)
@Controller('auth/mfa')
export class MfaController {
  constructor(
    private readonly mfa: MfaService,
    private readonly users: UsersService,
  ) {}

  @ApiOperation({ summary: "The caller's second factors" })
  @ApiOkResponse({ type: MfaStatusResponse })
  @Get()
  async status(@CurrentPrincipal() user: Principal): Promise<MfaStatusResponse> {
    const status = await this.mfa.status(user.subject);
    return {
      totp: status.totp,
      recovery_codes_left: status.recoveryCodesLeft,
      passkeys: status.passkeys,
    };
  }

  @ApiOperation({
    summary: 'Starts enrolling an authenticator app: its otpauth:// URI and QR code',
    description:
      'Nothing changes for sign-in until `POST /auth/mfa/totp/confirm` takes a first code. Starting again replaces a waiting enrolment.',
  })
  @ApiCreatedResponse({ type: TotpEnrolmentResponse })
  @ApiErrors({ status: 409, description: '`totp_already_enrolled`: remove the one there first' })
  @Post('totp')
  async beginTotp(
    @CurrentPrincipal() user: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TotpEnrolmentResponse> {
    noStore(reply);
    const account = await this.users.findById(user.subject);
    if (!account) throw invalidBearerToken();
    const enrolment = await this.mfa.beginTotp(account.id, account.email);
    return {
      otpauth_uri: enrolment.otpauthUri,
      qr_code: enrolment.qrCode,
      secret: enrolment.secret,
    };
  }

  @ApiOperation({
    summary:
      'Confirms the authenticator app with a first code; the first factor also gets recovery codes',
  })
  @ApiOkResponse({ type: RecoveryCodesResponse })
  @ApiErrors(
    { status: 400, description: 'The code is not six digits' },
    WRONG_CODE,
    { status: 409, description: '`no_totp_enrolment`: start one first' },
    NOT_JSON_BODY,
    429,
  )
  @Post('totp/confirm')
  @HttpCode(200)
  async confirmTotp(
    @CurrentPrincipal() user: Principal,
    @Body() body: TotpCodeDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RecoveryCodesResponse> {
    noStore(reply);
    return {
      recovery_codes: await this.mfa.confirmTotp(
        user.subject,
        body.code,
        contextOf(request),
        user.sessionId,
      ),
    };
  }

  @ApiOperation({
    summary: 'Removes the authenticator app (needs a fresh second factor)',
    description:
      'The access token must come from a sign-in with a second factor in the last 5 minutes. Without any factor left, the recovery codes go too.',
  })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiErrors(NEEDS_FRESH_SECOND_FACTOR, { status: 409, description: '`no_totp_enrolment`' })
  @RequireAuthentication(FRESH_SECOND_FACTOR)
  @Delete('totp')
  @HttpCode(204)
  removeTotp(@CurrentPrincipal() user: Principal, @Req() request: FastifyRequest): Promise<void> {
    return this.mfa.removeTotp(user.subject, contextOf(request));
  }

  @ApiOperation({
    summary:
      'A new set of ten recovery codes; the old ones stop working (needs a fresh second factor)',
  })
  @ApiCreatedResponse({ type: RecoveryCodesResponse })
  @ApiErrors(NEEDS_FRESH_SECOND_FACTOR)
  @RequireAuthentication(FRESH_SECOND_FACTOR)
  @Post('recovery-codes')
  async regenerateRecoveryCodes(
    @CurrentPrincipal() user: Principal,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RecoveryCodesResponse> {
    noStore(reply);
    return {
      recovery_codes: await this.mfa.regenerateRecoveryCodes(user.subject, contextOf(request)),
    };
  }
}
