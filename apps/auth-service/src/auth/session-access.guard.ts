import { Injectable, Logger } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { bearerTokenOf, invalidBearerToken, missingBearerToken } from '@tessera/auth';
import { SessionsService } from '../sessions/sessions.service';
import { AccessTokenService } from '../tokens/access-token.service';
import type { RequestWithUser } from './authenticated-user';

/**
 * Guards auth-service's own session endpoints (/auth/sessions, /auth/logout-all, /auth/password).
 * Beyond the signature checks it requires the token's session to be live in the database, so a
 * revoked session is refused here at once rather than when its access token expires.
 */
@Injectable()
export class SessionAccessGuard implements CanActivate {
  private readonly logger = new Logger(SessionAccessGuard.name);

  constructor(
    private readonly accessTokens: AccessTokenService,
    private readonly sessions: SessionsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithUser>();
    const token = bearerTokenOf(request);
    if (!token) throw missingBearerToken();
    try {
      const claims = await this.accessTokens.verify(token);
      const session = claims.sid ? await this.sessions.findActive(claims.sid) : null;
      if (!session || session.userId !== claims.sub) throw new Error('session is not active');
      request.authenticatedUser = {
        userId: claims.sub,
        sessionId: session.id,
        clientId: claims.client_id,
        roles: claims.roles ?? [],
        scopes: (claims.scope ?? '').split(' ').filter(Boolean),
      };
      return true;
    } catch (error) {
      this.logger.debug(`Access token refused: ${error instanceof Error ? error.message : error}`);
      throw invalidBearerToken();
    }
  }
}
