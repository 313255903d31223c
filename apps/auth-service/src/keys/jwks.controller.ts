import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '@tessera/platform';
import { Public } from '@tessera/auth-token';
import { authServiceConfig } from '../config/auth-service.config';
import { KeysService } from './keys.service';
import type { PublishedJwk } from './keys.service';
import { JwksResponse } from './jwks.response';

/** What the route needs of the Fastify reply, without importing Fastify's types. */
interface HeaderWriter {
  header(name: string, value: string): unknown;
}

/** The public keys that verify access tokens (RFC 7517), for every resource service. */
@ApiTags('keys')
@Public()
@Controller('.well-known')
export class JwksController {
  constructor(
    private readonly keys: KeysService,
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  @ApiOperation({ summary: 'The public keys that verify access tokens (cached for JWKS_MAX_AGE)' })
  @ApiOkResponse({ type: JwksResponse })
  @ApiErrors(503)
  @Get('jwks.json')
  async jwks(@Res({ passthrough: true }) reply: HeaderWriter): Promise<{ keys: PublishedJwk[] }> {
    reply.header('Cache-Control', `public, max-age=${this.environment.JWKS_MAX_AGE}`);
    return this.keys.jwks();
  }
}
