import { Controller, HttpCode, Param, ParseUUIDPipe, Post, Req, UseGuards } from '@nestjs/common';
import {
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors } from '@tessera/platform';
import type { FastifyRequest } from 'fastify';
import { AdminRoleGuard } from './admin-role.guard';
import { AuthService, contextOf } from './auth.service';
import { CurrentUser } from './authenticated-user';
import type { AuthenticatedUser } from './authenticated-user';
import { PendingKeyResponse } from './dto/pending-key.response';
import { SessionAccessGuard } from './session-access.guard';

/** Operations for accounts with the `admin` role (make one with `nx run auth-service:create-admin`). */
@ApiTags('admin')
@ApiErrors({ status: 403, description: 'The token has no `admin` role' }, 503)
@UseGuards(SessionAccessGuard, AdminRoleGuard)
@Controller('admin')
export class AdminController {
  constructor(private readonly auth: AuthService) {}

  /**
   * Publishes the next signing key now; it signs after SIGNING_KEY_ACTIVATION_DELAY, and the
   * current one stays published for the access-token lifetime plus leeway. Calling it again while
   * a key is pending returns that key.
   */
  @ApiOperation({
    summary: 'Publishes the next signing key (it signs after SIGNING_KEY_ACTIVATION_DELAY)',
  })
  @ApiOkResponse({ type: PendingKeyResponse })
  @Post('keys/rotate')
  @HttpCode(200)
  rotateKeys(
    @CurrentUser() admin: AuthenticatedUser,
    @Req() request: FastifyRequest,
  ): Promise<PendingKeyResponse> {
    return this.auth.rotateSigningKey(admin, contextOf(request));
  }

  /** Refuses the user's logins and ends every one of their sessions (F9). */
  @ApiOperation({ summary: "Refuses the user's logins and ends their sessions" })
  @ApiNoContentResponse({ description: 'Disabled' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiErrors({ status: 404, description: 'No such user' })
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
