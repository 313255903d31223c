import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { RequestContext } from '../auth/auth.service';
import { AuthService } from '../auth/auth.service';
import { grantedScope } from '../auth/first-party-client';
import { grantedAudiences, listed } from '../auth/resource-indicators';
import type { TokenResponse } from '../auth/token-response';
import { GRANT_TYPES } from '../clients/client.entity';
import type { Client, GrantType } from '../clients/client.entity';
import { AuthorizationCodeGrant } from './authorization-code-grant';
import { authServiceConfig } from '../config/auth-service.config';
import { AccessTokenService } from '../tokens/access-token.service';
import { ClientAuthenticator } from './client-authenticator';
import { OAuthException } from './oauth.exception';
import type { OAuthRequest } from './oauth-request';

const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/;

/**
 * `POST /oauth/token` (RFC 6749 §3.2): the authorization-code grant (AuthorizationCodeGrant), the
 * refresh-token grant, with the rotation rules of `/auth/refresh`, and the client-credentials
 * grant for services (I14). The last two take RFC 8707 `resource`, repeated for several
 * audiences. The password grant is not offered (I15): first-party login is its own endpoint.
 */
@Injectable()
export class OAuthTokenService {
  constructor(
    private readonly clients: ClientAuthenticator,
    private readonly auth: AuthService,
    private readonly accessTokens: AccessTokenService,
    private readonly codes: AuthorizationCodeGrant,
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  async exchange(request: OAuthRequest, context: RequestContext): Promise<TokenResponse> {
    const grant = request.params['grant_type'];
    if (grant === undefined) throw new OAuthException('invalid_request', 'grant_type is required');
    if (!(GRANT_TYPES as readonly string[]).includes(grant)) {
      throw new OAuthException(
        'unsupported_grant_type',
        grant === 'password'
          ? 'The password grant is not offered: sign users in with POST /auth/login'
          : `grant_type must be one of ${GRANT_TYPES.join(', ')}`,
      );
    }
    const scope = request.params['scope'];
    if (scope !== undefined && !SCOPE.test(scope)) {
      throw new OAuthException(
        'invalid_scope',
        'scope must be space-separated scope names (RFC 6749 §3.3)',
      );
    }
    const client = await this.clients.authenticate(request, 'token', context, {
      allowPublic: true,
    });
    if (!client.grantTypes.includes(grant as GrantType)) {
      throw new OAuthException('unauthorized_client', `This client may not use the ${grant} grant`);
    }
    if (grant === 'authorization_code') return this.codes.exchange(request, client, context);
    return grant === 'refresh_token'
      ? this.refresh(request, client, context)
      : this.clientCredentials(request, client);
  }

  private refresh(
    request: OAuthRequest,
    client: Client,
    context: RequestContext,
  ): Promise<TokenResponse> {
    const refreshToken = request.params['refresh_token'];
    if (refreshToken === undefined)
      throw new OAuthException('invalid_request', 'refresh_token is required');
    return this.auth.refresh(refreshToken, context, {
      clientId: client.id,
      scope: request.params['scope'],
      ...(request.resources.length > 0 && { resource: request.resources }),
    });
  }

  /**
   * A token for the client itself: `sub` = its id, no session, no refresh token, a short life.
   * Its audiences are the `resource` values (RFC 8707), or the space-separated `audience`
   * parameter (the older name, still accepted), or else the client's default audiences (all of
   * its audiences when it has no default ones).
   */
  private async clientCredentials(request: OAuthRequest, client: Client): Promise<TokenResponse> {
    const scope = grantedScope(request.params['scope'] ?? client.scopes.join(' '), client.scopes);
    if (scope === undefined) {
      throw new OAuthException(
        'invalid_scope',
        `scope may only include: ${client.scopes.join(' ')}`,
      );
    }
    const alias = request.params['audience'];
    if (alias !== undefined && request.resources.length > 0) {
      throw new OAuthException(
        'invalid_request',
        'Name the audiences with resource or with audience, not both',
      );
    }
    const requested = request.resources.length > 0 ? request.resources : alias?.split(' ');
    const audiences = grantedAudiences(
      requested,
      client.audiences,
      client.defaultAudiences.length > 0 ? client.defaultAudiences : client.audiences,
    );
    if (audiences === undefined) {
      throw new OAuthException(
        'invalid_target',
        `resource may only name: ${listed(client.audiences)}`,
      );
    }
    const access = await this.accessTokens.issue({
      subject: client.id,
      clientId: client.id,
      scope,
      roles: [],
      audience: audiences,
      expiresIn: this.environment.SERVICE_TOKEN_TTL,
    });
    return {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: access.expiresIn,
      scope,
    };
  }
}
