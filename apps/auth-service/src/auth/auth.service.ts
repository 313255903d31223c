import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { invalidBearerToken } from '@tessera/auth';
import type { FastifyRequest } from 'fastify';
import { AuditService } from '../audit/audit.service';
import { KeysService } from '../keys/keys.service';
import { LoginService } from '../login/login.service';
import { SessionsService } from '../sessions/sessions.service';
import { AccessTokenService } from '../tokens/access-token.service';
import { UsersService } from '../users/users.service';
import type { AuthenticatedUser } from './authenticated-user';
import { ClientsService } from '../clients/clients.service';
import { IdTokenService } from '../tokens/id-token.service';
import { FIRST_PARTY_CLIENT_ID, grantedScope } from './first-party-client';
import { InvalidScopeException } from './invalid-scope.exception';
import { InvalidGrantException } from './invalid-grant.exception';
import type { TokenResponse } from './token-response';

/** Where a request came from, for sessions, throttling and the audit log. */
export interface RequestContext {
  clientAddress: string;
  userAgent: string;
}

/** Truncated so a hostile header cannot bloat the sessions and audit tables. */
export function contextOf(request: FastifyRequest): RequestContext {
  return {
    clientAddress: request.ip,
    userAgent: (request.headers['user-agent'] ?? '').slice(0, 512),
  };
}

/** The first-party login flow: credentials in, a session and its tokens out. */
@Injectable()
export class AuthService {
  constructor(
    private readonly login: LoginService,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly accessTokens: AccessTokenService,
    private readonly audit: AuditService,
    private readonly keys: KeysService,
    private readonly clients: ClientsService,
    private readonly idTokens: IdTokenService,
  ) {}

  async signIn(
    email: string,
    password: string,
    requestedScope: string | undefined,
    context: RequestContext,
  ): Promise<TokenResponse> {
    const client = await this.firstPartyClient();
    const scope = grantedScope(requestedScope, client.scopes);
    if (scope === undefined) {
      throw new BadRequestException(`scope may only include: ${client.scopes.join(' ')}`);
    }
    const user = await this.login.authenticate({ email, password, ...context });
    const { session, refreshToken } = await this.sessions.start({
      userId: user.id,
      clientId: client.id,
      scope,
      ...context,
    });
    const tokens = await this.tokenResponse(
      user.id,
      user.roles,
      session.id,
      scope,
      refreshToken,
      client.id,
    );
    if (!scope.split(' ').includes('openid')) return tokens;
    const idToken = await this.idTokens.issue({
      subject: user.id,
      audience: client.id,
      authTime: session.createdAt,
      sessionId: session.id,
      ...(scope.split(' ').includes('email') && { email: user.email }),
    });
    return { ...tokens, id_token: idToken };
  }

  /**
   * Rotates a refresh token of `options.clientId` (the first-party client by default) into new
   * tokens. `options.scope` may narrow the new access token's scope, never widen it (F6); the
   * session keeps its scope.
   */
  async refresh(
    refreshToken: string | undefined,
    context: RequestContext,
    options: { clientId?: string; scope?: string } = {},
  ): Promise<TokenResponse> {
    if (!refreshToken) throw new InvalidGrantException('A refresh token is required');
    const clientId = options.clientId ?? FIRST_PARTY_CLIENT_ID;
    try {
      const { session, refreshToken: successor } = await this.sessions.rotate(refreshToken, {
        clientId,
      });
      const user = await this.users.findById(session.userId);
      if (!user || user.disabledAt) {
        await this.sessions.revoke(session.id, 'user_disabled');
        throw new InvalidGrantException();
      }
      const scope =
        options.scope === undefined
          ? session.scope
          : grantedScope(options.scope, session.scope.split(' '));
      if (scope === undefined) {
        throw new InvalidScopeException(`scope may only narrow the session's: ${session.scope}`);
      }
      return await this.tokenResponse(user.id, user.roles, session.id, scope, successor, clientId);
    } catch (error) {
      await this.recordReuse(error, context);
      throw InvalidGrantException.from(error);
    }
  }

  /**
   * Ends the session of the presented refresh token, or else of the access token (its `sid`).
   * Idempotent: unknown or already-ended sessions are fine. An access token must still verify,
   * so a forged one cannot end someone else's session.
   */
  async signOut(
    refreshToken: string | undefined,
    accessToken: string | undefined,
    context: RequestContext,
  ): Promise<void> {
    const session = refreshToken
      ? await this.sessions.revokeByRefreshToken(refreshToken, 'logout')
      : accessToken
        ? await this.sessions.revoke(await this.sessionOf(accessToken), 'logout')
        : null;
    if (session)
      await this.audit.record({
        type: 'logout',
        userId: session.userId,
        sessionId: session.id,
        ...context,
      });
  }

  async signOutEverywhere(user: AuthenticatedUser, context: RequestContext): Promise<void> {
    await this.sessions.revokeAllForUser(user.userId, 'logout_all');
    await this.audit.record({
      type: 'session.revoked',
      userId: user.userId,
      sessionId: user.sessionId,
      detail: { scope: 'all' },
      ...context,
    });
  }

  async changePassword(
    user: AuthenticatedUser,
    current: string,
    next: string,
    context: RequestContext,
  ): Promise<void> {
    await this.login.changePassword({
      userId: user.userId,
      currentPassword: current,
      newPassword: next,
      ...context,
    });
    await this.sessions.revokeAllForUser(user.userId, 'password_changed', {
      exceptSessionId: user.sessionId,
    });
    await this.audit.record({
      type: 'password.changed',
      userId: user.userId,
      sessionId: user.sessionId,
      ...context,
    });
  }

  listSessions(user: AuthenticatedUser) {
    return this.sessions.listForUser(user.userId);
  }

  async endSession(
    user: AuthenticatedUser,
    sessionId: string,
    context: RequestContext,
  ): Promise<void> {
    const owned = (await this.sessions.listForUser(user.userId)).some(
      (session) => session.id === sessionId,
    );
    // Another user's session is "not found", not "forbidden": its existence is not ours to reveal.
    if (!owned) throw new NotFoundException('No such session');
    await this.sessions.revoke(sessionId, 'logout');
    await this.audit.record({
      type: 'session.revoked',
      userId: user.userId,
      sessionId,
      ...context,
    });
  }

  async rotateSigningKey(admin: AuthenticatedUser, context: RequestContext) {
    const next = await this.keys.rotate();
    await this.audit.record({
      type: 'key.rotated',
      userId: admin.userId,
      sessionId: admin.sessionId,
      detail: { kid: next.kid, activatesAt: next.activatesAt.toISOString() },
      ...context,
    });
    return { kid: next.kid, activates_at: next.activatesAt.toISOString() };
  }

  async disableUser(
    admin: AuthenticatedUser,
    userId: string,
    context: RequestContext,
  ): Promise<void> {
    await this.users.disable(userId);
    const ended = await this.sessions.revokeAllForUser(userId, 'user_disabled');
    await this.audit.record({
      type: 'session.revoked',
      userId,
      detail: { reason: 'user_disabled', sessions: ended, by: admin.userId },
      ...context,
    });
  }

  private async tokenResponse(
    userId: string,
    roles: string[],
    sessionId: string,
    scope: string,
    refreshToken: string,
    clientId: string,
  ): Promise<TokenResponse> {
    const access = await this.accessTokens.issue({
      subject: userId,
      clientId,
      scope,
      roles,
      sessionId,
    });
    return {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: access.expiresIn,
      refresh_token: refreshToken,
      scope,
    };
  }

  private async firstPartyClient() {
    const client = await this.clients.find(FIRST_PARTY_CLIENT_ID);
    if (!client)
      throw new Error(`The client ${FIRST_PARTY_CLIENT_ID} is missing; its migration seeds it`);
    return client;
  }

  private async sessionOf(accessToken: string): Promise<string> {
    try {
      const claims = await this.accessTokens.verify(accessToken);
      if (!claims.sid) throw new Error('the token has no session');
      return claims.sid;
    } catch {
      throw invalidBearerToken();
    }
  }

  private async recordReuse(error: unknown, context: RequestContext): Promise<void> {
    const reuse = InvalidGrantException.reuseOf(error);
    if (reuse) {
      await this.audit.record({
        type: 'refresh.reuse_detected',
        userId: reuse.userId,
        sessionId: reuse.sessionId,
        ...context,
      });
    }
  }
}
