import { createParamDecorator } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Who called an auth-service endpoint, from a verified access token whose session is live. */
export interface AuthenticatedUser {
  userId: string;
  sessionId: string;
  clientId: string;
  /** From the verified token's `roles` claim. */
  roles: string[];
  /** From the verified token's `scope` claim. */
  scopes: string[];
}

export type RequestWithUser = FastifyRequest & { authenticatedUser?: AuthenticatedUser };

/** The caller set by SessionAccessGuard. */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthenticatedUser => {
    const user = context.switchToHttp().getRequest<RequestWithUser>().authenticatedUser;
    if (!user) throw new Error('CurrentUser used on a route without SessionAccessGuard');
    return user;
  },
);
