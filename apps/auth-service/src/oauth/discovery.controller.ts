import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '@tessera/auth-token';
import type { FastifyReply } from 'fastify';
import { ACR_VALUES } from '../authorization/authorization-request';
import { GRANT_TYPES } from '../clients/client.entity';
import { authServiceConfig } from '../config/auth-service.config';
import { ServerMetadataResponse } from './dto/oauth-responses';

/**
 * Authorization-server metadata (RFC 8414) and its OpenID Connect twin (Discovery 1.0), so OAuth
 * libraries configure themselves. `issuer` is ISSUER byte for byte, the `iss` of every token (K1).
 * It lists what is implemented and nothing else (A8): the code flow with PKCE S256 only, the
 * query response mode, RFC 9207 `iss`, RP-initiated logout.
 */
@ApiTags('oauth')
@Public()
@Controller('.well-known')
export class DiscoveryController {
  constructor(
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  @ApiOperation({ summary: 'Authorization-server metadata (RFC 8414)' })
  @ApiOkResponse({ type: ServerMetadataResponse })
  @Get('oauth-authorization-server')
  oauthMetadata(@Res({ passthrough: true }) reply: FastifyReply): ServerMetadataResponse {
    return this.metadata(reply);
  }

  @ApiOperation({ summary: 'The same metadata, for OpenID Connect Discovery 1.0' })
  @ApiOkResponse({ type: ServerMetadataResponse })
  @Get('openid-configuration')
  openIdConfiguration(@Res({ passthrough: true }) reply: FastifyReply): ServerMetadataResponse {
    return this.metadata(reply);
  }

  private metadata(reply: FastifyReply): ServerMetadataResponse {
    reply.header('cache-control', `public, max-age=${this.environment.JWKS_MAX_AGE}`);
    const issuer = this.environment.ISSUER;
    // What ClientAuthenticator takes (RFC 6749 §2.3): a secret in the Basic header or in the
    // form, or a public client naming itself (`none`: the token and revocation endpoints only).
    // No JWT client authentication (private_key_jwt, client_secret_jwt), so no
    // token_endpoint_auth_signing_alg_values_supported (RFC 8414 §2).
    const clientAuthentication = ['client_secret_basic', 'client_secret_post'];
    return {
      issuer,
      authorization_endpoint: `${issuer}/oauth/authorize`,
      token_endpoint: `${issuer}/oauth/token`,
      end_session_endpoint: `${issuer}/oauth/end_session`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      revocation_endpoint: `${issuer}/oauth/revoke`,
      introspection_endpoint: `${issuer}/oauth/introspect`,
      userinfo_endpoint: `${issuer}/userinfo`,
      grant_types_supported: [...GRANT_TYPES],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      prompt_values_supported: ['none', 'login', 'consent'],
      acr_values_supported: [...ACR_VALUES],
      token_endpoint_auth_methods_supported: [...clientAuthentication, 'none'],
      revocation_endpoint_auth_methods_supported: [...clientAuthentication, 'none'],
      introspection_endpoint_auth_methods_supported: clientAuthentication,
      scopes_supported: ['openid', 'email', 'notes:read', 'notes:write', 'tokens:introspect'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [this.environment.SIGNING_ALGORITHM],
      claims_supported: [
        'iss',
        'sub',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'amr',
        'acr',
        'sid',
        'nonce',
        'at_hash',
        'email',
        'email_verified',
      ],
    };
  }
}
