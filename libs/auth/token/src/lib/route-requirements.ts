import { SetMetadata } from '@nestjs/common';

/**
 * What a route asks of its caller, as metadata. The guard of `@tessera/auth-resource-server`
 * enforces it and the platform's API docs describe it, both from these keys: that is why they
 * live in this library, which both may import.
 */
export const IS_PUBLIC_KEY = 'tessera:isPublic';
export const SCOPES_KEY = 'tessera:scopes';
export const ROLES_KEY = 'tessera:roles';

/**
 * Marks a route or controller as open: the global guard lets it through without a token. Every
 * other route of every Tessera service needs one.
 *
 * @example
 * ```ts
 * @Public()
 * @Get('status')
 * status() { return { ok: true }; }
 * ```
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);

/**
 * The route needs a token with every one of these scopes; without them the answer is 403
 * `insufficient_scope`. On a controller it applies to every route; a route adds to it.
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
