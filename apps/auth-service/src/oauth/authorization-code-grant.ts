import { Injectable } from '@nestjs/common';
import { Clock } from '@tessera/auth-token';
import { AuditService } from '../audit/audit.service';
import { AuthService } from '../auth/auth.service';
import type { RequestContext } from '../auth/auth.service';
import { scopeIncludes } from '../auth/first-party-client';
import type { TokenResponse } from '../auth/token-response';
import { AuthorizationRepository } from '../authorization/authorization.repository';
import type { RedeemedCode } from '../authorization/authorization.repository';
import { hashOpaqueToken, OPAQUE_TOKEN } from '../authorization/opaque-token';
import { verifierMatches } from '../authorization/pkce';
import type { Client } from '../clients/client.entity';
import { SessionsService, UserDisabledError } from '../sessions/sessions.service';
import { IdTokenService } from '../tokens/id-token.service';
import { UsersService } from '../users/users.service';
import { OAuthException } from './oauth.exception';
import type { OAuthRequest } from './oauth-request';

const INVALID_CODE = 'The authorization code is invalid, expired or already used';

/**
 * `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5). A code is spent by its first
 * presentation, whatever follows; it works only for its client, with its redirect URI, with the
 * verifier of its challenge, within 60 seconds (A3). A code presented again revokes the session
 * its first redemption started (RFC 6749 §4.1.2), so a stolen code's tokens die with it. The new
 * session belongs to the browser session that signed in, and to the refresh-token families.
 */
@Injectable()
export class AuthorizationCodeGrant {
  constructor(
    private readonly store: AuthorizationRepository,
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    private readonly idTokens: IdTokenService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async exchange(
    request: OAuthRequest,
    client: Client,
    context: RequestContext,
  ): Promise<TokenResponse> {
    const { code, redirect_uri: redirectUri, code_verifier: verifier } = request.params;
    if (code === undefined) throw new OAuthException('invalid_request', 'code is required');
    if (redirectUri === undefined)
      throw new OAuthException('invalid_request', 'redirect_uri is required');
    if (verifier === undefined)
      throw new OAuthException('invalid_request', 'code_verifier is required (PKCE)');
    if (!OPAQUE_TOKEN.test(code)) throw new OAuthException('invalid_grant', INVALID_CODE);
    const codeHash = hashOpaqueToken(code);
    const now = this.clock.now();
    const spent = await this.store.spendCode(codeHash, now);
    if (!spent) {
      await this.refuseReplay(codeHash, now, context);
      throw new OAuthException('invalid_grant', INVALID_CODE);
    }
    if (
      spent.expiresAt <= now ||
      spent.clientId !== client.id ||
      spent.redirectUri !== redirectUri ||
      !verifierMatches(verifier, spent.codeChallenge) ||
      !(await this.store.isBrowserSessionLive(spent.browserSessionId, now))
    ) {
      throw new OAuthException('invalid_grant', INVALID_CODE);
    }
    return this.issue(spent, client, context);
  }

  private async issue(
    code: RedeemedCode,
    client: Client,
    context: RequestContext,
  ): Promise<TokenResponse> {
    const user = await this.users.findById(code.userId);
    if (!user || user.disabledAt) throw new OAuthException('invalid_grant', INVALID_CODE);
    const started = await this.sessions
      .start({
        userId: user.id,
        clientId: client.id,
        scope: code.scope,
        audiences: code.audiences,
        amr: code.amr,
        authTime: code.authTime,
        ...context,
      })
      .catch((error: unknown) => {
        if (error instanceof UserDisabledError)
          throw new OAuthException('invalid_grant', INVALID_CODE);
        throw error;
      });
    const { session, refreshToken, ended } = started;
    for (const oldest of ended) {
      await this.audit.record({
        type: 'session.revoked',
        userId: user.id,
        sessionId: oldest.id,
        detail: { reason: 'session_limit', by: session.id },
        ...context,
      });
    }
    await this.store.bindSession(session.id, code.browserSessionId);
    if (await this.store.recordCodeSession(code.codeHash, session.id)) {
      // Replayed while this redemption was under way: its tokens must not live either.
      await this.endForReplay(user.id, session.id, context);
      throw new OAuthException('invalid_grant', INVALID_CODE);
    }
    const tokens = await this.auth.tokenResponse(
      user,
      session,
      { scope: code.scope, audiences: code.audiences },
      refreshToken,
    );
    // The session exists for `sid` and revocation either way; a client without the refresh
    // grant is not handed its refresh token.
    if (!client.grantTypes.includes('refresh_token')) delete tokens.refresh_token;
    if (!scopeIncludes(code.scope, 'openid')) return tokens;
    const idToken = await this.idTokens.issue({
      subject: user.id,
      audience: client.id,
      authTime: code.authTime,
      amr: code.amr,
      sessionId: session.id,
      accessToken: tokens.access_token,
      ...(code.nonce !== null && { nonce: code.nonce }),
      ...(scopeIncludes(code.scope, 'email') && {
        email: user.email,
        emailVerified: user.emailVerifiedAt !== null,
      }),
    });
    return { ...tokens, id_token: idToken };
  }

  private async refuseReplay(codeHash: Buffer, now: Date, context: RequestContext): Promise<void> {
    const replayed = await this.store.markReplayed(codeHash, now);
    if (!replayed?.sessionId) return;
    const session = await this.sessions.revoke(replayed.sessionId, 'revoked');
    if (session) await this.endForReplay(session.userId, session.id, context, false);
  }

  private async endForReplay(
    userId: string,
    sessionId: string,
    context: RequestContext,
    revoke = true,
  ): Promise<void> {
    if (revoke) await this.sessions.revoke(sessionId, 'revoked');
    await this.audit.record({
      type: 'session.revoked',
      userId,
      sessionId,
      detail: { reason: 'authorization_code_replayed' },
      ...context,
    });
  }
}
