import { Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
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
    const token = bearerToken(request.headers.authorization);
    if (!token) throw unauthorized();
    try {
      const claims = await this.accessTokens.verify(token);
      const session = claims.sid ? await this.sessions.findActive(claims.sid) : null;
      if (!session || session.userId !== claims.sub) throw new Error('session is not active');
      request.authenticatedUser = {
        userId: claims.sub,
        sessionId: session.id,
        clientId: claims.client_id,
        roles: claims.roles,
      };
      return true;
    } catch (error) {
      this.logger.debug(`Access token refused: ${error instanceof Error ? error.message : error}`);
      throw invalidAccessToken();
    }
  }
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header ?? '');
  return match?.[1];
}

/** 401 with `WWW-Authenticate: Bearer error="invalid_token"`. */
export function invalidAccessToken(): UnauthorizedException {
  return unauthorized('invalid_token');
}

/** RFC 6750: a bare challenge without a token, `error="invalid_token"` for a bad one. */
function unauthorized(error?: 'invalid_token'): UnauthorizedException {
  const exception = new UnauthorizedException(
    error ? 'The access token is invalid or expired' : 'An access token is required',
  );
  Object.assign(exception, {
    headers: { 'www-authenticate': error ? `Bearer error="${error}"` : 'Bearer' },
  });
  return exception;
}
