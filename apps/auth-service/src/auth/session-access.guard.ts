import { Injectable, Logger } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import {
  GuardMetrics,
  InvalidAccessTokenError,
  invalidBearerToken,
  requireBearerToken,
} from '@tessera/auth';
import type { AccessTokenClaims } from '@tessera/auth';
import { SessionsService } from '../sessions/sessions.service';
import { AccessTokenService } from '../tokens/access-token.service';
import type { RequestWithUser } from './authenticated-user';

/**
 * Guards auth-service's own session endpoints (/auth/sessions, /auth/logout-all, /auth/password).
 * Beyond the signature checks it requires the token's session to be live in the database, so a
 * revoked session is refused here at once rather than when its access token expires. Refusals
 * are counted in `tessera_guard_refusals_total`, with the reasons resource services use.
 */
@Injectable()
export class SessionAccessGuard implements CanActivate {
  private readonly logger = new Logger(SessionAccessGuard.name);

  constructor(
    private readonly accessTokens: AccessTokenService,
    private readonly sessions: SessionsService,
    private readonly metrics: GuardMetrics,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithUser>();
    const token = requireBearerToken(request, this.metrics);
    let claims: AccessTokenClaims;
    try {
      claims = await this.accessTokens.verify(token);
    } catch (error) {
      // Anything but a refused token (a bug) goes up as a 500, with its stack logged.
      if (!(error instanceof InvalidAccessTokenError)) throw error;
      this.logger.debug(error.message);
      this.metrics.refused(error.reason);
      throw invalidBearerToken();
    }
    // A database that is down throws here, and is answered 503 like everywhere else.
    const session = claims.sid ? await this.sessions.findActive(claims.sid) : null;
    if (!session || session.userId !== claims.sub) {
      this.logger.debug('Access token refused: its session is not active');
      this.metrics.refused('revoked');
      throw invalidBearerToken();
    }
    request.authenticatedUser = {
      userId: claims.sub,
      sessionId: session.id,
      clientId: claims.client_id,
      roles: claims.roles ?? [],
      scopes: (claims.scope ?? '').split(' ').filter(Boolean),
    };
    return true;
  }
}
