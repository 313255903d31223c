import { Injectable, NotFoundException } from '@nestjs/common';
import { invalidBearerToken } from '@tessera/auth-resource-server';
import { AccessTokenVerifier, AMR } from '@tessera/auth-token';
import type { Principal } from '@tessera/auth-token';
import type { FastifyRequest } from 'fastify';
import { AuditService } from '../audit/audit.service';
import { KeysService } from '../keys/keys.service';
import { LoginService } from '../login/login.service';
import { SecondFactorRequiredException } from '../mfa/mfa.errors';
import { MfaService } from '../mfa/mfa.service';
import { MFA_PENDING_TTL, PendingSignInsService } from '../mfa/pending-sign-ins.service';
import { SessionsService } from '../sessions/sessions.service';
import { AccessTokenService } from '../tokens/access-token.service';
import { UsersService } from '../users/users.service';
import { ClientsService } from '../clients/clients.service';
import { IdTokenService } from '../tokens/id-token.service';
import { InvalidCredentialsException } from '../login/login.errors';
import type { Session } from '../sessions/session.entity';
import { UserDisabledError } from '../sessions/sessions.service';
import type { StartedSession, StartSession } from '../sessions/sessions.service';
import type { User } from '../users/user.entity';
import {
  ADMIN_ROLE,
  ADMIN_SCOPE,
  FIRST_PARTY_CLIENT_ID,
  grantedScope,
  scopeIncludes,
  withAdminOnlyFor,
} from './first-party-client';
import { InvalidGrantException } from './invalid-grant.exception';
import { InvalidScopeException } from './invalid-scope.exception';
import { InvalidTargetException } from './invalid-target.exception';
import { grantedAudiences, listed } from './resource-indicators';
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

/** What a login or refresh asks for: both optional, both within what is allowed. */
export interface TokenRequest {
  /** Space-separated scopes. */
  scope?: string;
  /** RFC 8707: the audiences the access token is for. */
  resource?: readonly string[];
}

/** What one access token is granted. */
export interface Grant {
  scope: string;
  audiences: readonly string[];
}

/**
 * The session's grant, or the part of it `requested` asks for.
 * @throws InvalidScopeException, InvalidTargetException for anything the session was not granted
 */
function narrowedGrant(session: Session, requested: TokenRequest): Grant {
  const scope =
    requested.scope === undefined
      ? session.scope
      : grantedScope(requested.scope, session.scope.split(' '));
  if (scope === undefined) {
    throw new InvalidScopeException(`scope may only narrow the session's: ${session.scope}`);
  }
  const audiences = grantedAudiences(requested.resource, session.audiences, session.audiences);
  if (audiences === undefined) {
    throw new InvalidTargetException(
      `resource may only narrow the session's audiences: ${listed(session.audiences)}`,
    );
  }
  return { scope, audiences };
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
    private readonly verifier: AccessTokenVerifier,
    private readonly mfa: MfaService,
    private readonly pendingSignIns: PendingSignInsService,
  ) {}

  /**
   * Signs a user in on the first-party client. `scope` and `resource` (RFC 8707) are checked
   * against the client before the password is: without `resource` the token is for the client's
   * default audiences; the `admin` scope needs the `admin` role as well.
   *
   * @throws InvalidScopeException, InvalidTargetException (400) for more than the client may have
   * @throws InvalidCredentialsException (401) as LoginService says, or when the user is disabled
   *   while the login is in flight
   * @throws SecondFactorRequiredException (403 `mfa_required`, with an `mfa_token`) when the
   *   password is right and the account has a second factor: nothing is issued yet
   */
  async signIn(
    email: string,
    password: string,
    requested: TokenRequest,
    context: RequestContext,
  ): Promise<TokenResponse> {
    const { scope, audiences } = await this.firstPartyGrant(requested);
    const user = await this.login.authenticate({ email, password, ...context });
    if (scopeIncludes(scope, ADMIN_SCOPE) && !user.roles.includes(ADMIN_ROLE)) {
      throw new InvalidScopeException(`The scope ${ADMIN_SCOPE} needs the ${ADMIN_ROLE} role`);
    }
    // A second factor, when the account has one, before anything is issued (docs/second-factors.md).
    const methods = await this.mfa.methodsOf(user.id);
    if (methods.length > 0) {
      const mfaToken = await this.pendingSignIns.create({ userId: user.id, scope, audiences });
      throw new SecondFactorRequiredException(mfaToken, methods, MFA_PENDING_TTL);
    }
    return this.signedIn(user, { scope, audiences }, [AMR.password], context);
  }

  /**
   * The first-party client's grant for `requested`, checked before any credential is.
   * @throws InvalidScopeException, InvalidTargetException (400) for more than the client may have
   */
  async firstPartyGrant(requested: TokenRequest): Promise<Grant> {
    const client = await this.firstPartyClient();
    const scope = grantedScope(requested.scope, client.scopes);
    if (scope === undefined) {
      throw new InvalidScopeException(`scope may only include: ${client.scopes.join(' ')}`);
    }
    const audiences = grantedAudiences(
      requested.resource,
      client.audiences,
      client.defaultAudiences,
    );
    if (audiences === undefined) {
      throw new InvalidTargetException(
        requested.resource === undefined
          ? 'Name the audiences you need with resource: this client has no default ones'
          : `resource may only name: ${listed(client.audiences)}`,
      );
    }
    return { scope, audiences };
  }

  /**
   * A session on the first-party client for a user who has authenticated with `amr` (RFC 8176),
   * and its tokens: the access token (with `amr`, `acr`, `auth_time`), the refresh token, and an
   * ID token when `openid` was granted.
   */
  async signedIn(
    user: User,
    { scope, audiences }: Grant,
    amr: readonly string[],
    context: RequestContext,
  ): Promise<TokenResponse> {
    const { session, refreshToken, ended } = await this.startSession({
      userId: user.id,
      clientId: FIRST_PARTY_CLIENT_ID,
      scope,
      audiences,
      amr,
      ...context,
    });
    for (const oldest of ended) {
      await this.audit.record({
        type: 'session.revoked',
        userId: user.id,
        sessionId: oldest.id,
        detail: { reason: 'session_limit', by: session.id },
        ...context,
      });
    }
    const tokens = await this.tokenResponse(user, session, { scope, audiences }, refreshToken);
    if (!scopeIncludes(scope, 'openid')) return tokens;
    const idToken = await this.idTokens.issue({
      subject: user.id,
      audience: FIRST_PARTY_CLIENT_ID,
      authTime: session.createdAt,
      sessionId: session.id,
      amr: session.amr,
      ...(scopeIncludes(scope, 'email') && {
        email: user.email,
        emailVerified: user.emailVerifiedAt !== null,
      }),
    });
    return { ...tokens, id_token: idToken };
  }

  /**
   * Rotates a refresh token of `options.clientId` (the first-party client by default) into new
   * tokens. `options.scope` and `options.resource` may narrow the new access token's scope and
   * audiences, never widen them (F6, RFC 8707); the session keeps its grant. They are checked
   * before the token is spent, so a refused request leaves it as it was: a retry is no reuse.
   */
  async refresh(
    refreshToken: string | undefined,
    context: RequestContext,
    options: TokenRequest & { clientId?: string } = {},
  ): Promise<TokenResponse> {
    if (!refreshToken) throw new InvalidGrantException('A refresh token is required');
    const clientId = options.clientId ?? FIRST_PARTY_CLIENT_ID;
    // Only for a token that can still be spent by this client: anything else is refused (or
    // answered within the grace window) by the rotation, exactly as before.
    const live = await this.sessions.inspectRefreshToken(refreshToken);
    if (live?.session.clientId === clientId) narrowedGrant(live.session, options);
    try {
      const { session, refreshToken: successor } = await this.sessions.rotate(refreshToken, {
        clientId,
      });
      const user = await this.users.findById(session.userId);
      if (!user || user.disabledAt) {
        await this.sessions.revoke(session.id, 'user_disabled');
        throw new InvalidGrantException();
      }
      return await this.tokenResponse(user, session, narrowedGrant(session, options), successor);
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

  async signOutEverywhere(user: Principal, context: RequestContext): Promise<void> {
    await this.sessions.revokeAllForUser(user.subject, 'logout_all');
    await this.audit.record({
      type: 'session.revoked',
      userId: user.subject,
      sessionId: user.sessionId,
      detail: { scope: 'all' },
      ...context,
    });
  }

  /**
   * Changes the password, ends every other session of the user, and gives the caller's session a
   * fresh refresh-token family: whatever refresh token leaked before the change, this session's
   * included, works no more. The session itself goes on (its id, grant and access tokens).
   *
   * @returns the session's new tokens: an access token and the new family's refresh token
   */
  async changePassword(
    user: Principal,
    current: string,
    next: string,
    context: RequestContext,
  ): Promise<TokenResponse> {
    await this.login.changePassword({
      userId: user.subject,
      currentPassword: current,
      newPassword: next,
      ...context,
    });
    await this.sessions.revokeAllForUser(user.subject, 'password_changed', {
      exceptSessionId: user.sessionId,
    });
    const renewed = user.sessionId ? await this.sessions.renew(user.sessionId) : null;
    await this.audit.record({
      type: 'password.changed',
      userId: user.subject,
      sessionId: user.sessionId,
      ...context,
    });
    const account = await this.users.findById(user.subject);
    // Ended meanwhile (a logout, a disable): the password has changed, but there is no session
    // left to hand tokens for.
    if (!renewed || !account || account.disabledAt) throw invalidBearerToken();
    const { session, refreshToken } = renewed;
    return this.tokenResponse(
      account,
      session,
      { scope: session.scope, audiences: session.audiences },
      refreshToken,
    );
  }

  listSessions(user: Principal) {
    return this.sessions.listForUser(user.subject);
  }

  async endSession(user: Principal, sessionId: string, context: RequestContext): Promise<void> {
    const owned = (await this.sessions.listForUser(user.subject)).some(
      (session) => session.id === sessionId,
    );
    // Another user's session is "not found", not "forbidden": its existence is not ours to reveal.
    if (!owned) throw new NotFoundException('No such session');
    await this.sessions.revoke(sessionId, 'logout');
    await this.audit.record({
      type: 'session.revoked',
      userId: user.subject,
      sessionId,
      ...context,
    });
  }

  async rotateSigningKey(admin: Principal, context: RequestContext) {
    const next = await this.keys.rotate();
    await this.audit.record({
      type: 'key.rotated',
      userId: admin.subject,
      sessionId: admin.sessionId,
      detail: { kid: next.kid, activatesAt: next.activatesAt.toISOString() },
      ...context,
    });
    return { kid: next.kid, activates_at: next.activatesAt.toISOString() };
  }

  async disableUser(admin: Principal, userId: string, context: RequestContext): Promise<void> {
    await this.users.disable(userId);
    const ended = await this.sessions.revokeAllForUser(userId, 'user_disabled');
    await this.audit.record({
      type: 'session.revoked',
      userId,
      detail: { reason: 'user_disabled', sessions: ended, by: admin.subject },
      ...context,
    });
  }

  /** A session for a user who may have been disabled meanwhile: then the login is refused. */
  private async startSession(input: StartSession): Promise<StartedSession> {
    try {
      return await this.sessions.start(input);
    } catch (error) {
      if (error instanceof UserDisabledError) throw new InvalidCredentialsException();
      throw error;
    }
  }

  /** The access token of a session (and its refresh token), for any flow that started one. */
  async tokenResponse(
    user: User,
    session: Session,
    grant: Grant,
    refreshToken: string,
  ): Promise<TokenResponse> {
    // The admin scope goes with the admin role: a user who lost the role loses it at once.
    const scope = withAdminOnlyFor(grant.scope, user.roles);
    const access = await this.accessTokens.issue({
      subject: user.id,
      clientId: session.clientId,
      scope,
      roles: user.roles,
      emailVerified: user.emailVerifiedAt !== null,
      sessionId: session.id,
      audience: grant.audiences,
      authentication: { amr: session.amr, time: session.authTime ?? session.createdAt },
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
      throw new Error(
        `The client ${FIRST_PARTY_CLIENT_ID} is missing; apps/auth-service/registry.json registers it`,
      );
    return client;
  }

  /** The session of an access token for auth-service (the one verifier, as the guard uses it). */
  private async sessionOf(accessToken: string): Promise<string> {
    try {
      const { principal } = await this.verifier.verify(accessToken);
      if (!principal.sessionId) throw new Error('the token has no session');
      return principal.sessionId;
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
