import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { bearerTokenOf, CurrentPrincipal } from '@tessera/auth-resource-server';
import { Public } from '@tessera/auth-token';
import type { Principal } from '@tessera/auth-token';
import { ApiErrors } from '@tessera/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SecondFactorRequiredException } from '../mfa/mfa.errors';
import type { SecondFactorRequiredBody } from '../mfa/mfa.errors';
import { AuthService, contextOf } from './auth.service';
import { ChangePasswordDto } from './dto/change-password.dto';
import { LoginDto } from './dto/login.dto';
import { RefreshRequestDto, RefreshTokenDto } from './dto/refresh-token.dto';
import { SessionListResponse } from './dto/session-list.response';
import { InvalidGrantException } from './invalid-grant.exception';
import { JsonBodyGuard, NOT_JSON_BODY } from './json-body.guard';
import { CSRF_HEADER_MISSING, RefreshTokenCookie } from './refresh-token-cookie';
import { noStore, TokenResponse } from './token-response';

const INVALID_REFRESH = {
  status: 400,
  description:
    "The request is invalid; `invalid_target` (RFC 8707): a `resource` beyond the session's audiences (the refresh token is left unspent)",
};
const DEAD_REFRESH = {
  status: 401,
  description:
    "`invalid_grant`: the refresh token is missing, invalid, expired, revoked or reused; sign in again. (`/oauth/token` answers the same grant error with RFC 6749's 400.)",
};
const INVALID_LOGIN = {
  status: 400,
  description:
    'The request is invalid; `invalid_scope`: a scope the client may not have (or `admin` without the admin role); `invalid_target` (RFC 8707): a `resource` the client may not have',
};

/** Tessera's own first-party endpoints. The standard OAuth ones live in oauth/. */
@ApiTags('auth')
@ApiErrors(503)
@UseGuards(JsonBodyGuard)
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly cookie: RefreshTokenCookie,
  ) {}

  @ApiOperation({
    summary: 'Signs a user in: an access token and a refresh token',
    description:
      "The `access_token` is what **Authorize** takes on the resource services' docs. It is for the audiences named by `resource` (RFC 8707), or else the client's default ones; ask for `auth-service` to call the account API (`/auth/sessions`, `/auth/password`, …), and for the `admin` scope as well for `/admin/*`.",
  })
  @ApiOkResponse({ type: TokenResponse })
  @ApiErrors(
    INVALID_LOGIN,
    { status: 401, description: '`invalid_credentials`: the email or password is not correct' },
    {
      status: 403,
      description:
        '`mfa_required`: the account has a second factor. Nothing is issued; the body has `mfa_token`, `methods` and `expires_in` for `POST /auth/login/second-factor`. (Or, with REFRESH_TOKEN_COOKIE, the CSRF header is missing.)',
    },
    NOT_JSON_BODY,
    429,
  )
  @Public()
  @Post('login')
  @HttpCode(200)
  async login(
    @Body() body: LoginDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponse | SecondFactorRequiredBody> {
    noStore(reply);
    this.cookie.requireCsrfHeader(request);
    try {
      const tokens = await this.auth.signIn(
        body.email,
        body.password,
        { scope: body.scope, resource: body.resource },
        contextOf(request),
      );
      return this.cookie.deliver(tokens, reply);
    } catch (error) {
      // The second step's token goes in the body, which the error filter would strip.
      if (!(error instanceof SecondFactorRequiredException)) throw error;
      reply.status(403);
      return error.body;
    }
  }

  @ApiOperation({
    summary: 'Rotates a refresh token: new tokens, the old refresh token spent',
    description:
      "`resource` may narrow the new access token's audiences to some of the session's, never widen them. A refused `resource` leaves the refresh token unspent.",
  })
  @ApiOkResponse({ type: TokenResponse })
  @ApiErrors(INVALID_REFRESH, DEAD_REFRESH, CSRF_HEADER_MISSING, NOT_JSON_BODY)
  @Public()
  @Post('refresh')
  @HttpCode(200)
  async refresh(
    @Body() body: RefreshRequestDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponse> {
    noStore(reply);
    const tokens = await this.auth
      .refresh(this.cookie.read(request, body.refresh_token), contextOf(request), {
        resource: body.resource,
      })
      .catch((error: unknown) => {
        throw InvalidGrantException.asUnauthorized(error);
      });
    return this.cookie.deliver(tokens, reply);
  }

  @ApiOperation({ summary: "Ends the refresh token's session (again: 204)" })
  @ApiNoContentResponse({ description: 'The session has ended' })
  @ApiErrors(CSRF_HEADER_MISSING, NOT_JSON_BODY)
  @Public()
  @Post('logout')
  @HttpCode(204)
  async logout(
    @Body() body: RefreshTokenDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.auth.signOut(
      this.cookie.read(request, body.refresh_token),
      bearerTokenOf(request),
      contextOf(request),
    );
    this.cookie.clear(reply);
  }

  @ApiOperation({ summary: 'Ends every session of the user' })
  @ApiNoContentResponse({ description: 'Every session has ended' })
  @ApiErrors(CSRF_HEADER_MISSING)
  @Post('logout-all')
  @HttpCode(204)
  async logoutAll(
    @CurrentPrincipal() user: Principal,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    this.cookie.requireCsrfHeader(request);
    await this.auth.signOutEverywhere(user, contextOf(request));
    this.cookie.clear(reply);
  }

  @ApiOperation({ summary: "The caller's live sessions" })
  @ApiOkResponse({ type: SessionListResponse })
  @Get('sessions')
  async sessions(
    @CurrentPrincipal() user: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SessionListResponse> {
    // The caller's devices and addresses: no cache keeps them.
    noStore(reply);
    const sessions = await this.auth.listSessions(user);
    return {
      sessions: sessions.map((session) => ({ ...session, current: session.id === user.sessionId })),
    };
  }

  @ApiOperation({ summary: "Ends one of the caller's sessions" })
  @ApiNoContentResponse({ description: 'The session has ended' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiErrors({ status: 404, description: "No such session of the caller's" })
  @Delete('sessions/:id')
  @HttpCode(204)
  endSession(
    @CurrentPrincipal() user: Principal,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    return this.auth.endSession(user, id, contextOf(request));
  }

  @ApiOperation({
    summary: "Changes the caller's password, ends every other session, and renews this one",
    description:
      "Every refresh token issued before the change stops working, the caller's included. The caller's session goes on (its id, scope and audiences, and its access tokens) with a fresh refresh-token family, whose first refresh token this answers with a new access token; with REFRESH_TOKEN_COOKIE the refresh token comes in the cookie.",
  })
  @ApiOkResponse({ type: TokenResponse, description: "Changed: the session's new tokens" })
  @ApiErrors(
    { status: 400, description: 'The current password is wrong, or the new one is too weak' },
    CSRF_HEADER_MISSING,
    NOT_JSON_BODY,
    429,
  )
  @Post('password')
  @HttpCode(200)
  async changePassword(
    @CurrentPrincipal() user: Principal,
    @Body() body: ChangePasswordDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponse> {
    noStore(reply);
    this.cookie.requireCsrfHeader(request);
    const tokens = await this.auth.changePassword(
      user,
      body.current_password,
      body.new_password,
      contextOf(request),
    );
    return this.cookie.deliver(tokens, reply);
  }
}
