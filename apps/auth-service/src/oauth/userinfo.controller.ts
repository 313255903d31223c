import { Controller, Get, NotFoundException, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { insufficientScope } from '@tessera/auth';
import { ApiErrors } from '@tessera/platform';
import { CurrentUser } from '../auth/authenticated-user';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { SessionAccessGuard } from '../auth/session-access.guard';
import { UsersService } from '../users/users.service';
import { UserInfoResponse } from './dto/oauth-responses';

/** OpenID Connect Core §5.3: who the access token's user is, for a token with `openid`. */
@ApiTags('oauth')
@UseGuards(SessionAccessGuard)
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
  @Get()
  async userInfo(@CurrentUser() caller: AuthenticatedUser): Promise<UserInfoResponse> {
    if (!caller.scopes.includes('openid')) throw insufficientScope({ scopes: ['openid'] });
    const user = await this.users.findById(caller.userId);
    if (!user) throw new NotFoundException('No such user');
    return {
      sub: user.id,
      ...(caller.scopes.includes('email') && { email: user.email, email_verified: false }),
    };
  }
}
