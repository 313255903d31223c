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
import { bearerTokenOf } from '@tessera/auth';
import { Public } from '@tessera/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthService, contextOf } from './auth.service';
import { CurrentUser } from './authenticated-user';
import type { AuthenticatedUser } from './authenticated-user';
import { ChangePasswordDto } from './dto/change-password.dto';
import { LoginDto } from './dto/login.dto';
import { RefreshTokenDto } from './dto/refresh-token.dto';
import { RefreshTokenCookie } from './refresh-token-cookie';
import { SessionAccessGuard } from './session-access.guard';
import { noStore } from './token-response';
import type { TokenResponse } from './token-response';

/** Tessera's own first-party endpoints. The standard OAuth ones live in oauth/. */
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly cookie: RefreshTokenCookie,
  ) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  async login(
    @Body() body: LoginDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponse> {
    noStore(reply);
    const tokens = await this.auth.signIn(
      body.email,
      body.password,
      body.scope,
      contextOf(request),
    );
    return this.cookie.deliver(tokens, reply);
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  async refresh(
    @Body() body: RefreshTokenDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponse> {
    noStore(reply);
    const tokens = await this.auth.refresh(
      this.cookie.read(request, body.refresh_token),
      contextOf(request),
    );
    return this.cookie.deliver(tokens, reply);
  }

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

  @UseGuards(SessionAccessGuard)
  @Post('logout-all')
  @HttpCode(204)
  async logoutAll(
    @CurrentUser() user: AuthenticatedUser,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.auth.signOutEverywhere(user, contextOf(request));
    this.cookie.clear(reply);
  }

  @UseGuards(SessionAccessGuard)
  @Get('sessions')
  async sessions(@CurrentUser() user: AuthenticatedUser) {
    const sessions = await this.auth.listSessions(user);
    return {
      sessions: sessions.map((session) => ({ ...session, current: session.id === user.sessionId })),
    };
  }

  @UseGuards(SessionAccessGuard)
  @Delete('sessions/:id')
  @HttpCode(204)
  endSession(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    return this.auth.endSession(user, id, contextOf(request));
  }

  @UseGuards(SessionAccessGuard)
  @Post('password')
  @HttpCode(204)
  changePassword(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: ChangePasswordDto,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    return this.auth.changePassword(
      user,
      body.current_password,
      body.new_password,
      contextOf(request),
    );
  }
}
