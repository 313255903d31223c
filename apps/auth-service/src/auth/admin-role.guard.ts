import { ForbiddenException, Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { GuardMetrics } from '@tessera/auth';
import type { RequestWithUser } from './authenticated-user';

/** After SessionAccessGuard: only a caller whose token carries the `admin` role gets through. */
@Injectable()
export class AdminRoleGuard implements CanActivate {
  constructor(private readonly metrics: GuardMetrics) {}

  canActivate(context: ExecutionContext): boolean {
    const user = context.switchToHttp().getRequest<RequestWithUser>().authenticatedUser;
    if (!user?.roles.includes('admin')) {
      this.metrics.refused('insufficient_scope');
      throw new ForbiddenException('This needs the admin role');
    }
    return true;
  }
}
