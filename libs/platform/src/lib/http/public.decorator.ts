import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC_KEY = 'tessera:isPublic';

/**
 * Marks a route or controller as open: the global auth guard lets it through without a token.
 * Every other route needs one.
 *
 * @example
 * ```ts
 * @Public()
 * @Get('status')
 * status() { return { ok: true }; }
 * ```
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);
