import { Controller, HttpCode, Param, ParseUUIDPipe, Post, Req } from '@nestjs/common';
import {
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal } from '@tessera/auth-resource-server';
import { Roles, Scopes } from '@tessera/auth-token';
import type { Principal } from '@tessera/auth-token';
import { ApiErrors } from '@tessera/platform';
import type { FastifyRequest } from 'fastify';
import { ADMIN_ROLE, ADMIN_SCOPE } from './admin';
import { AuthService, contextOf } from './auth.service';
import { PendingKeyResponse } from './dto/pending-key.response';

/**
 * Operations for accounts with the `admin` role (make one with `nx run auth-service:create-admin`),
 * with a token asked for them: audience auth-service and scope `admin`.
 */
@ApiTags('admin')
@ApiErrors(
  { status: 403, description: '`insufficient_scope`: the token lacks the `admin` role or scope' },
  503,
)
@Roles(ADMIN_ROLE)
@Scopes(ADMIN_SCOPE)
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
    @CurrentPrincipal() admin: Principal,
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
    @CurrentPrincipal() admin: Principal,
    @Param('id', new ParseUUIDPipe()) userId: string,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    return this.auth.disableUser(admin, userId, contextOf(request));
  }
}
