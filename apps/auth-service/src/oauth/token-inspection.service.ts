import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { AccessTokenVerifier, Clock } from '@tessera/auth-token';
import type { AccessTokenClaims } from '@tessera/auth-token';
import { AuditService } from '../audit/audit.service';
import type { RequestContext } from '../auth/auth.service';
import { authServiceConfig } from '../config/auth-service.config';
import { SessionsService } from '../sessions/sessions.service';
import { AccessTokenService } from '../tokens/access-token.service';
import { ReferenceTokens } from '../tokens/reference-tokens';
import { IssuedAccessTokens } from './issued-access-tokens';
import { ClientAuthenticator } from './client-authenticator';
import { OAuthException } from './oauth.exception';
import type { OAuthRequest } from './oauth-request';
import { serviceCaller } from './service-caller';

export const INTROSPECT_SCOPE = 'tokens:introspect';
/** May swap a reference access token for the JWT it stands for: the gateway's, phantom-token mode. */
export const PHANTOM_TOKEN_SCOPE = 'tokens:phantom';
/**
 * Seconds a phantom JWT lives at most (issue 21: the gateway forwards a short-lived JWT). The
 * swap signs `exp = min(the reference's exp, now + PHANTOM_JWT_SECONDS)`, `iat` now: a JWT that
 * leaks from behind the gateway is good for a minute at most, and the gateway, which keeps a swap
 * until its JWT's `exp`, swaps a live reference again at most once a minute.
 */
export const PHANTOM_JWT_SECONDS = 60;

export type Introspection =
  | { active: false }
  | {
      active: true;
      token_type: 'Bearer' | 'refresh_token';
      scope: string;
      client_id: string;
      sub: string;
      exp: number;
      iat: number;
      iss: string;
      aud: string | string[];
      jti?: string;
      sid?: string;
    };

const INACTIVE: Introspection = { active: false };

/**
 * Revocation (RFC 7009) and introspection (RFC 7662) of the tokens auth-service issues. Both need
 * an authenticated client (V1); introspection also takes a service's bearer token with
 * `tokens:introspect` (RFC 7662 §2.1), which is how resource-service asks.
 */
@Injectable()
export class TokenInspectionService {
  constructor(
    private readonly clients: ClientAuthenticator,
    private readonly sessions: SessionsService,
    private readonly verifier: AccessTokenVerifier,
    private readonly issued: IssuedAccessTokens,
    private readonly audit: AuditService,
    private readonly references: ReferenceTokens,
    private readonly accessTokens: AccessTokenService,
    private readonly clock: Clock,
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  /**
   * Ends the session of a refresh token, or of an access token's `sid`, when the token is the
   * calling client's (V4: another client's is left alone). Unknown, invalid or already revoked
   * tokens are fine (V2): the answer is always the same.
   */
  async revoke(request: OAuthRequest, context: RequestContext): Promise<void> {
    const client = await this.clients.authenticate(request, 'revoke', context, {
      allowPublic: true,
    });
    const token = required(request, 'token');
    const session =
      (await this.sessions.revokeByRefreshToken(token, 'revoked', { clientId: client.id })) ??
      (await this.revokeAccessTokenSession(token, client.id));
    if (session) {
      await this.audit.record({
        type: 'token.revoked',
        userId: session.userId,
        sessionId: session.id,
        ...context,
        detail: { client_id: client.id },
      });
    }
  }

  /**
   * `{ active: true, … }` only for a token that is clearly valid now and meant for the caller:
   * its own refresh token, or an access token whose `aud` names the caller (or that the caller
   * was issued), with a live session. Anything else is exactly `{ active: false }` (V6).
   */
  async introspect(request: OAuthRequest, context: RequestContext): Promise<Introspection> {
    const caller = (await this.caller(request, context, INTROSPECT_SCOPE)).id;
    const token = required(request, 'token');
    const refresh = await this.sessions.inspectRefreshToken(token);
    if (refresh) {
      if (refresh.session.clientId !== caller) return this.denied(caller, context);
      const { session } = refresh;
      const expiresAt = Math.min(
        session.idleExpiresAt.getTime(),
        session.absoluteExpiresAt.getTime(),
      );
      return {
        active: true,
        token_type: 'refresh_token',
        scope: session.scope,
        client_id: session.clientId,
        sub: session.userId,
        exp: Math.floor(expiresAt / 1000),
        iat: Math.floor(refresh.issuedAt.getTime() / 1000),
        iss: this.environment.ISSUER,
        aud: this.environment.ISSUER,
        sid: session.id,
      };
    }
    const claims = await this.liveAccessToken(token);
    if (!claims) return INACTIVE;
    const audiences = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
    if (!audiences.includes(caller) && claims.client_id !== caller)
      return this.denied(caller, context);
    return {
      active: true,
      token_type: 'Bearer',
      scope: claims.scope ?? '',
      client_id: claims.client_id,
      sub: claims.sub,
      exp: claims.exp,
      iat: claims.iat,
      iss: claims.iss,
      aud: claims.aud,
      jti: claims.jti,
      ...(claims.sid !== undefined && { sid: claims.sid }),
    };
  }

  /**
   * Phantom tokens (`Accept: application/jwt`, docs/adr/0012-gateway-at-the-edge.md): the JWT a
   * live reference token stands for, signed now with the active key, for a caller allowed
   * `tokens:phantom` (the gateway). Narrow: `aud` is only the one service the gateway routes the
   * request to (the `audience` parameter), so a service cannot replay what it was forwarded at
   * another. Short-lived: `iat` is now and `exp` is the reference's or `now + PHANTOM_JWT_SECONDS`,
   * whichever comes first. Undefined for anything else: a JWT, an unknown or expired reference, one
   * whose session ended, an `audience` the reference was not issued for (as the JSON introspection
   * answers a token that is not for the caller: inactive).
   *
   * @throws OAuthException `unauthorized_client` for a caller without `tokens:phantom`;
   *   `invalid_request` without an `audience`
   */
  async phantomJwt(request: OAuthRequest, context: RequestContext): Promise<string | undefined> {
    const caller = await this.caller(request, context, PHANTOM_TOKEN_SCOPE);
    if (!caller.scopes.includes(PHANTOM_TOKEN_SCOPE)) {
      await this.audit.record({
        type: 'introspection.denied',
        ...context,
        detail: { client_id: caller.id, reason: 'no_phantom_scope' },
      });
      throw new OAuthException(
        'unauthorized_client',
        `Only a client with ${PHANTOM_TOKEN_SCOPE} may ask for the JWT of a reference token`,
      );
    }
    const token = required(request, 'token');
    const audience = required(request, 'audience');
    const claims = await this.references.claimsOf(token);
    if (!claims || !(await this.sessionIsLive(claims))) return undefined;
    const audiences = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
    if (!audiences.includes(audience)) {
      await this.audit.record({
        type: 'introspection.denied',
        ...context,
        detail: { client_id: caller.id, reason: 'other_audience' },
      });
      return undefined;
    }
    const now = Math.floor(this.clock.now().getTime() / 1000);
    return this.accessTokens.sign({
      ...claims,
      aud: [audience],
      iat: now,
      exp: Math.min(claims.exp, now + PHANTOM_JWT_SECONDS),
    });
  }

  /**
   * The introspecting client and its scopes: by client authentication, or by a service token
   * with `scope`.
   */
  private async caller(
    request: OAuthRequest,
    context: RequestContext,
    scope: string,
  ): Promise<{ id: string; scopes: readonly string[] }> {
    if (!request.bearer || request.credentials) {
      return this.clients.authenticate(request, 'introspect', context, { allowPublic: false });
    }
    const caller = await serviceCaller(this.verifier, request.bearer, scope);
    if (!caller) {
      await this.audit.record({
        type: 'introspection.denied',
        ...context,
        detail: { reason: 'bad_service_token' },
      });
      throw new OAuthException(
        'invalid_token',
        `Introspection needs client authentication or a service token with ${scope}`,
        'Bearer error="invalid_token"',
      );
    }
    return { id: caller.clientId, scopes: caller.scopes };
  }

  private async denied(caller: string, context: RequestContext): Promise<Introspection> {
    await this.audit.record({
      type: 'introspection.denied',
      ...context,
      detail: { client_id: caller, reason: 'other_audience' },
    });
    return INACTIVE;
  }

  private async liveAccessToken(token: string): Promise<AccessTokenClaims | undefined> {
    const claims = await this.issued.claimsOf(token);
    return claims && (await this.sessionIsLive(claims)) ? claims : undefined;
  }

  /** A token without a session (a service's) lives by its `exp` alone. */
  private async sessionIsLive(claims: AccessTokenClaims): Promise<boolean> {
    if (claims.sid === undefined) return true;
    const session = await this.sessions.findActive(claims.sid);
    return !!session && session.userId === claims.sub;
  }

  private async revokeAccessTokenSession(token: string, clientId: string) {
    const claims = await this.issued.claimsOf(token);
    if (!claims?.sid || claims.client_id !== clientId) return null;
    return this.sessions.revoke(claims.sid, 'revoked');
  }
}

function required(request: OAuthRequest, name: string): string {
  const value = request.params[name];
  if (value === undefined) throw new OAuthException('invalid_request', `${name} is required`);
  return value;
}
