import { Body, Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '@tessera/auth-token';
import { ApiErrors } from '@tessera/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { WEBAUTHN_OPTIONS_SCHEMA } from '../mfa/dto/mfa.responses';
import { PasskeyOptionsDto } from '../mfa/dto/passkey.dto';
import { contextOf } from './auth.service';
import { PasskeyLoginDto, SecondFactorLoginDto } from './dto/second-factor-login.dto';
import { JsonBodyGuard, NOT_JSON_BODY } from './json-body.guard';
import { CSRF_HEADER_MISSING, RefreshTokenCookie } from './refresh-token-cookie';
import { SecondFactorSignInService } from './second-factor-sign-in.service';
import { noStore, TokenResponse } from './token-response';

/** Sign-in with a second factor, and with a passkey alone (docs/second-factors.md). */
@ApiTags('auth')
@ApiErrors(503)
@UseGuards(JsonBodyGuard)
@Controller('auth/login')
export class SecondFactorLoginController {
  constructor(
    private readonly signIn: SecondFactorSignInService,
    private readonly cookie: RefreshTokenCookie,
  ) {}

  @ApiOperation({
    summary: 'The second step of a sign-in: the mfa_token and one second factor, then the tokens',
    description:
      'After `POST /auth/login` answered 403 `mfa_required`: send its `mfa_token` with one of `code` (TOTP), `recovery_code` or `passkey`. The tokens carry `amr` (`pwd otp mfa` or `pwd hwk user mfa`), `acr` `urn:tessera:acr:mfa` and `auth_time`.',
  })
  @ApiOkResponse({ type: TokenResponse })
  @ApiErrors(
    { status: 400, description: 'Not exactly one second factor, or a malformed one' },
    {
      status: 401,
      description:
        '`invalid_second_factor`: wrong, replayed or spent; `invalid_mfa_token`: unknown, used or expired (sign in again)',
    },
    CSRF_HEADER_MISSING,
    NOT_JSON_BODY,
    { status: 429, description: '`too_many_second_factor_attempts`, with Retry-After' },
  )
  @Public()
  @Post('second-factor')
  @HttpCode(200)
  async secondFactor(
    @Body() body: SecondFactorLoginDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponse> {
    noStore(reply);
    this.cookie.requireCsrfHeader(request);
    const tokens = await this.signIn.complete(
      body.mfa_token,
      { code: body.code, recoveryCode: body.recovery_code, passkey: body.passkey },
      contextOf(request),
    );
    return this.cookie.deliver(tokens, reply);
  }

  @ApiOperation({
    summary: 'Options for navigator.credentials.get(): passwordless, or as the second factor',
    description:
      "With an `mfa_token`: the pending user's passkeys. Without: any discoverable passkey of this site. The challenge is single-use and lives 120 seconds.",
  })
  @ApiOkResponse({
    description: 'PublicKeyCredentialRequestOptionsJSON',
    schema: WEBAUTHN_OPTIONS_SCHEMA,
  })
  @ApiErrors({ status: 401, description: '`invalid_mfa_token`' }, NOT_JSON_BODY, {
    status: 429,
    description:
      '`too_many_passkey_sign_ins`, with Retry-After: too many passwordless options from this address',
  })
  @Public()
  @Post('passkey-options')
  @HttpCode(200)
  passkeyOptions(@Body() body: PasskeyOptionsDto, @Req() request: FastifyRequest) {
    return this.signIn.passkeyOptions(body.mfa_token, contextOf(request));
  }

  @ApiOperation({
    summary: 'Signs in with a passkey alone: an access token and a refresh token',
    description:
      'A discoverable passkey with user verification, for a challenge of `POST /auth/login/passkey-options` without `mfa_token`. `scope` and `resource` as for `POST /auth/login`; `amr` is `hwk user mfa`.',
  })
  @ApiOkResponse({ type: TokenResponse })
  @ApiErrors(
    { status: 400, description: 'The request is invalid; `invalid_scope`, `invalid_target`' },
    { status: 401, description: '`invalid_second_factor`: the passkey did not verify' },
    CSRF_HEADER_MISSING,
    NOT_JSON_BODY,
  )
  @Public()
  @Post('passkey')
  @HttpCode(200)
  async passkey(
    @Body() body: PasskeyLoginDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponse> {
    noStore(reply);
    this.cookie.requireCsrfHeader(request);
    const tokens = await this.signIn.signInWithPasskey(
      body.passkey,
      { scope: body.scope, resource: body.resource },
      contextOf(request),
    );
    return this.cookie.deliver(tokens, reply);
  }
}
