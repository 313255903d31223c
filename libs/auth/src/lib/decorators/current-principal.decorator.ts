import { createParamDecorator } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import type { Principal } from '../tokens/principal';
import { principalOfRequest } from '../guard/request-principal';

/**
 * The verified caller of a guarded route. On a `@Public()` route there is none, and using it
 * there is a programming error (it throws, answered as 500).
 *
 * @example
 * ```ts
 * @Get('me')
 * me(@CurrentPrincipal() principal: Principal): Principal { return principal; }
 * ```
 */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal => {
    const principal = principalOfRequest(context.switchToHttp().getRequest());
    if (!principal)
      throw new Error('@CurrentPrincipal() used on a route the auth guard did not check');
    return principal;
  },
);
