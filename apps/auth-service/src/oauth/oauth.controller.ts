import { Controller, HttpCode, Post, Req, Res, UseFilters } from '@nestjs/common';
import { Public } from '@tessera/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { contextOf } from '../auth/auth.service';
import { noStore } from '../auth/token-response';
import type { TokenResponse } from '../auth/token-response';
import { OAuthErrorFilter } from './oauth-error.filter';
import { readOAuthRequest } from './oauth-request';
import { OAuthTokenService } from './oauth-token.service';
import { TokenInspectionService } from './token-inspection.service';
import type { Introspection } from './token-inspection.service';

/**
 * The standard OAuth 2.0 endpoints, form-encoded in and RFC 6749 errors out, never cached. They
 * authenticate clients themselves, so the routes are open to the (absent) bearer guard.
 */
@Public()
@UseFilters(OAuthErrorFilter)
@Controller('oauth')
export class OAuthController {
  constructor(
    private readonly tokens: OAuthTokenService,
    private readonly inspection: TokenInspectionService,
  ) {}

  /** RFC 6749 §3.2: `refresh_token` and `client_credentials`. */
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
  @Post('revoke')
  @HttpCode(200)
  async revoke(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    noStore(reply);
    await this.inspection.revoke(readOAuthRequest(request), contextOf(request));
  }

  /** RFC 7662. */
  @Post('introspect')
  @HttpCode(200)
  introspect(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Introspection> {
    noStore(reply);
    return this.inspection.introspect(readOAuthRequest(request), contextOf(request));
  }
}
