import { createParamDecorator } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import type { Principal } from '@tessera/auth-token';
import { messagePrincipalOf } from '../rpc/message-token';

/**
 * The verified caller of a guarded route or message handler: what JwtAuthGuard admitted, which
 * passport keeps as `request.user` (for a message, the guard keeps it by the message's context). On a `@Public()` route there is none, and using it there is a programming error
 * (it throws, answered as 500).
 *
 * @example
 * ```ts
 * @Get('me')
 * me(@CurrentPrincipal() principal: Principal): Principal { return principal; }
 * ```
 */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal => {
    const principal =
      context.getType() === 'rpc'
        ? messagePrincipalOf(context.switchToRpc().getContext<object>())
        : context.switchToHttp().getRequest<{ user?: Principal }>().user;
    if (!principal)
      throw new Error('@CurrentPrincipal() used on a route the auth guard did not check');
    return principal;
  },
);
