import { Controller, HttpCode, Param, ParseUUIDPipe, Post, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AdminRoleGuard } from './admin-role.guard';
import { AuthService, contextOf } from './auth.service';
import { CurrentUser } from './authenticated-user';
import type { AuthenticatedUser } from './authenticated-user';
import { SessionAccessGuard } from './session-access.guard';

/** Operations for accounts with the `admin` role (make one with `nx run auth-service:create-admin`). */
@UseGuards(SessionAccessGuard, AdminRoleGuard)
@Controller('admin')
export class AdminController {
  constructor(private readonly auth: AuthService) {}

  /**
   * Publishes the next signing key now; it signs after SIGNING_KEY_ACTIVATION_DELAY, and the
   * current one stays published for the access-token lifetime plus leeway. Calling it again while
   * a key is pending returns that key.
   */
  @Post('keys/rotate')
  @HttpCode(200)
  rotateKeys(@CurrentUser() admin: AuthenticatedUser, @Req() request: FastifyRequest) {
    return this.auth.rotateSigningKey(admin, contextOf(request));
  }

  /** Refuses the user's logins and ends every one of their sessions (F9). */
  @Post('users/:id/disable')
  @HttpCode(204)
  disableUser(
    @CurrentUser() admin: AuthenticatedUser,
    @Param('id', new ParseUUIDPipe()) userId: string,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    return this.auth.disableUser(admin, userId, contextOf(request));
  }
}
