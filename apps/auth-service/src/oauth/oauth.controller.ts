import { Controller, HttpCode, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '@tessera/platform';
import { Public } from '@tessera/auth-token';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { contextOf } from '../auth/auth.service';
import { noStore, TokenResponse } from '../auth/token-response';
import { IntrospectRequestForm, RevokeRequestForm, TokenRequestForm } from './dto/oauth-forms';
import { IntrospectionResponse } from './dto/oauth-responses';
import { OAuthEndpoint } from './oauth-docs.decorator';
import { OAuthErrorFilter } from './oauth-error.filter';
import { readOAuthRequest } from './oauth-request';
import { OAuthTokenService } from './oauth-token.service';
import { INTROSPECT_SCOPE, TokenInspectionService } from './token-inspection.service';
import type { Introspection } from './token-inspection.service';

/**
 * The standard OAuth 2.0 endpoints, form-encoded in and RFC 6749 errors out, never cached. They
 * authenticate clients themselves, so the routes are open to the (absent) bearer guard.
 */
@ApiTags('oauth')
@ApiErrors(503)
@Public()
@UseFilters(OAuthErrorFilter)
@Controller('oauth')
export class OAuthController {
  constructor(
    private readonly tokens: OAuthTokenService,
    private readonly inspection: TokenInspectionService,
  ) {}

  /** RFC 6749 §3.2: `refresh_token` and `client_credentials`. */
  @ApiOperation({ summary: 'The token endpoint: refresh_token and client_credentials grants' })
  @OAuthEndpoint(TokenRequestForm, { type: TokenResponse, description: 'RFC 6749 §5.1' })
  @Post('token')
  @HttpCode(200)
  token(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenResponse> {
    noStore(reply);
    return this.tokens.exchange(readOAuthRequest(request), contextOf(request));
  }

  /** RFC 7009: 200 with an empty body, whether or not there was anything to revoke. */
  @ApiOperation({ summary: 'Revokes a token (RFC 7009)' })
  @OAuthEndpoint(RevokeRequestForm, {
    description: 'An empty body, whether or not there was anything to revoke',
  })
  @Post('revoke')
  @HttpCode(200)
  async revoke(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    noStore(reply);
    await this.inspection.revoke(readOAuthRequest(request), contextOf(request));
  }

  /**
   * RFC 7662; with `Accept: application/jwt`, the phantom-token swap of a reference token for its
   * JWT (Curity's phantom-token pattern, docs/adr/0012-gateway-at-the-edge.md).
   */
  @ApiOperation({
    summary: 'Whether a token is live, and its claims (RFC 7662)',
    description:
      'A confidential client, or a service token with `tokens:introspect` as `Authorization: Bearer`. ' +
      'With `Accept: application/jwt` (phantom tokens: a client with `tokens:phantom`, the gateway) and ' +
      '`audience` (the one service the request goes to) a live reference token issued for that audience ' +
      'is answered as `application/jwt` with the JWT it stands for, its `aud` only that audience and its ' +
      'lifetime 60 s at most; anything else with `{ "active": false }`.',
  })
  @OAuthEndpoint(IntrospectRequestForm, {
    type: IntrospectionResponse,
    description: 'RFC 7662 §2.2',
  })
  @ApiSecurity('bearer', [INTROSPECT_SCOPE])
  @Post('introspect')
  @HttpCode(200)
  async introspect(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Introspection | string> {
    noStore(reply);
    if (!acceptsJwt(request)) {
      return this.inspection.introspect(readOAuthRequest(request), contextOf(request));
    }
    const jwt = await this.inspection.phantomJwt(readOAuthRequest(request), contextOf(request));
    if (jwt === undefined) return { active: false };
    void reply.type(JWT_MEDIA_TYPE);
    return jwt;
  }
}

const JWT_MEDIA_TYPE = 'application/jwt';

/** Whether the caller asks for the phantom-token answer (an exact media range, no wildcard). */
function acceptsJwt(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '')
    .split(',')
    .some((range) => range.split(';')[0]?.trim().toLowerCase() === JWT_MEDIA_TYPE);
}
