import { SetMetadata } from '@nestjs/common';
import { ROLES_KEY, SCOPES_KEY } from '@tessera/platform';

export { ROLES_KEY, SCOPES_KEY };

/**
 * The route needs a token with every one of these scopes; without them the answer is 403
 * `insufficient_scope` (R3). On a controller it applies to every route; a route adds to it.
 *
 * @example
 * ```ts
 * @Scopes('notes:read')
 * @Get()
 * list(@CurrentPrincipal() principal: Principal) { … }
 * ```
 */
export const Scopes = (...scopes: string[]): MethodDecorator & ClassDecorator =>
  SetMetadata(SCOPES_KEY, scopes);

/**
 * The route needs a token whose `roles` claim holds every one of these roles (403 otherwise).
 *
 * @example
 * ```ts
 * @Roles('admin')
 * @Delete(':id')
 * remove(@Param('id') id: string) { … }
 * ```
 */
export const Roles = (...roles: string[]): MethodDecorator & ClassDecorator =>
  SetMetadata(ROLES_KEY, roles);
