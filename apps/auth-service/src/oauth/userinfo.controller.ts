import { Controller, Get, NotFoundException, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '@tessera/auth-resource-server';
import { Scopes } from '@tessera/auth-token';
import type { Principal } from '@tessera/auth-token';
import { ApiErrors } from '@tessera/platform';
import type { FastifyReply } from 'fastify';
import { noStore } from '../auth/token-response';
import { UsersService } from '../users/users.service';
import { UserInfoResponse } from './dto/oauth-responses';

/**
 * OpenID Connect Core §5.3: who the access token's user is, for a token for auth-service with
 * `openid`.
 */
@ApiTags('oauth')
@Controller('userinfo')
export class UserInfoController {
  constructor(private readonly users: UsersService) {}

  @ApiOperation({ summary: 'The signed-in user (OpenID Connect); `email` with the email scope' })
  @ApiSecurity('bearer', ['openid'])
  @ApiOkResponse({ type: UserInfoResponse })
  @ApiErrors(
    { status: 403, description: '`insufficient_scope`: the token has no `openid` scope' },
    { status: 404, description: 'The user no longer exists' },
    503,
  )
  @Scopes('openid')
  @Get()
  async userInfo(
    @CurrentPrincipal() caller: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<UserInfoResponse> {
    // Personal data: no cache keeps it (OpenID Connect Core §5.3.2 examples, RFC 9111 §5.2.2.5).
    noStore(reply);
    const user = await this.users.findById(caller.subject);
    if (!user) throw new NotFoundException('No such user');
    return {
      sub: user.id,
      ...(caller.scopes.includes('email') && {
        email: user.email,
        email_verified: user.emailVerifiedAt !== null,
      }),
    };
  }
}
