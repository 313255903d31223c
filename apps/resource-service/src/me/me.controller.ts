import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '@tessera/auth-resource-server';
import type { Principal } from '@tessera/auth-token';
import { PrincipalView } from './principal-view';

/** Who the token says you are: for people trying the system by hand. Any valid token will do. */
@ApiTags('me')
@Controller('me')
export class MeController {
  @ApiOperation({ summary: 'The principal the access token stands for' })
  @ApiOkResponse({ type: PrincipalView })
  @Get()
  me(@CurrentPrincipal() principal: Principal): Principal {
    return principal;
  }
}
