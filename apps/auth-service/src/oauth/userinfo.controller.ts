import { Controller, Get, NotFoundException, UseGuards } from '@nestjs/common';
import { insufficientScope } from '@tessera/auth';
import { CurrentUser } from '../auth/authenticated-user';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { SessionAccessGuard } from '../auth/session-access.guard';
import { UsersService } from '../users/users.service';

/** OpenID Connect Core §5.3: who the access token's user is, for a token with `openid`. */
@UseGuards(SessionAccessGuard)
@Controller('userinfo')
export class UserInfoController {
  constructor(private readonly users: UsersService) {}

  @Get()
  async userInfo(@CurrentUser() caller: AuthenticatedUser) {
    if (!caller.scopes.includes('openid')) throw insufficientScope({ scopes: ['openid'] });
    const user = await this.users.findById(caller.userId);
    if (!user) throw new NotFoundException('No such user');
    return {
      sub: user.id,
      ...(caller.scopes.includes('email') && { email: user.email, email_verified: false }),
    };
  }
}
