import { ForbiddenException, Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { parse, serialize } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authServiceConfig } from '../config/auth-service.config';
import type { TokenResponse } from './token-response';

export const REFRESH_COOKIE_NAME = 'tessera_refresh';
/**
 * In cookie mode, refresh and logout must carry this header. A cross-site form or image cannot
 * set a custom header, and a cross-site script cannot either without a CORS preflight that
 * auth-service does not grant: together with SameSite=Strict that stops CSRF.
 */
export const CSRF_HEADER = 'x-tessera-csrf';

/**
 * With REFRESH_TOKEN_COOKIE=true, browser clients never see the refresh token: it travels in a
 * `Secure; HttpOnly; SameSite=Strict; Path=/auth` cookie that scripts cannot read. Otherwise the
 * token stays in the JSON body and nothing here changes anything.
 */
@Injectable()
export class RefreshTokenCookie {
  constructor(
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  private get enabled(): boolean {
    return this.environment.REFRESH_TOKEN_COOKIE;
  }

  /** Moves the refresh token from the body into the cookie when cookie mode is on. */
  deliver(tokens: TokenResponse, reply: FastifyReply): TokenResponse {
    if (!this.enabled || tokens.refresh_token === undefined) return tokens;
    const { refresh_token: refreshToken, ...rest } = tokens;
    reply.header(
      'set-cookie',
      serialize(REFRESH_COOKIE_NAME, refreshToken, {
        ...this.attributes(),
        maxAge: this.environment.SESSION_ABSOLUTE_TTL,
      }),
    );
    return rest;
  }

  /** The refresh token of the request: the body's, or in cookie mode the cookie's. */
  read(request: FastifyRequest, fromBody: string | undefined): string | undefined {
    if (!this.enabled) return fromBody;
    if (request.headers[CSRF_HEADER] !== '1') {
      throw new ForbiddenException(`Send the header ${CSRF_HEADER}: 1 with this request`);
    }
    return parse(request.headers.cookie ?? '')[REFRESH_COOKIE_NAME] ?? fromBody;
  }

  clear(reply: FastifyReply): void {
    if (!this.enabled) return;
    reply.header(
      'set-cookie',
      serialize(REFRESH_COOKIE_NAME, '', { ...this.attributes(), maxAge: 0 }),
    );
  }

  private attributes() {
    return { httpOnly: true, secure: true, sameSite: 'strict' as const, path: '/auth' };
  }
}
