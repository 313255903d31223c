import { Controller, Get } from '@nestjs/common';
import { CurrentPrincipal } from '@tessera/auth';
import type { Principal } from '@tessera/auth';

/** Who the token says you are: for people trying the system by hand. Any valid token will do. */
@Controller('me')
export class MeController {
  @Get()
  me(@CurrentPrincipal() principal: Principal): Principal {
    return principal;
  }
}
