import { BadRequestException, ForbiddenException, Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { parse, serialize } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authServiceConfig } from '../config/auth-service.config';
import type { TokenResponse } from './token-response';

/** The 403 of requireCsrfHeader, in the API docs of each route that calls it. */
export const CSRF_HEADER_MISSING = {
  status: 403,
  description: 'With REFRESH_TOKEN_COOKIE: the request lacks `x-tessera-csrf: 1`',
};

/**
 * `__Host-`: browsers keep the cookie only if it is Secure, Path=/ and has no Domain, so neither a
 * sibling subdomain nor a plain-http page can plant or shadow it (RFC 6265bis §4.1.3.2).
 */
export const REFRESH_COOKIE_NAME = '__Host-tessera_refresh';
/**
 * In cookie mode, every route that sets, reads or clears the cookie (login, refresh, logout,
 * logout-all, password) must carry this header. A cross-site form or image cannot set a custom
 * header, and a cross-site script cannot either without a CORS preflight that auth-service does
 * not grant: together with SameSite=Strict and JSON-only bodies (json-body.guard.ts) that stops
 * CSRF, login CSRF included (a cross-site form planting the attacker's session).
 */
export const CSRF_HEADER = 'x-tessera-csrf';

/**
 * With REFRESH_TOKEN_COOKIE=true, browser clients never see the refresh token: it travels in a
 * `__Host-tessera_refresh` cookie, `Secure; HttpOnly; SameSite=Strict; Path=/`, that scripts
 * cannot read. Otherwise the token stays in the JSON body and nothing here changes anything.
 * Over plain http the browser decides: http://localhost and http://127.0.0.1 are secure contexts
 * to Chrome and Firefox, which keep the cookie; Safari, and any other plain-http origin, drop it
 * (docs/token-lifecycle.md, "Browser clients").
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

  /** In cookie mode, refuses a request without the CSRF header (403); otherwise does nothing. */
  requireCsrfHeader(request: FastifyRequest): void {
    if (!this.enabled) return;
    if (request.headers[CSRF_HEADER] !== '1') {
      throw new ForbiddenException(`Send the header ${CSRF_HEADER}: 1 with this request`);
    }
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
    this.requireCsrfHeader(request);
    const header = request.headers.cookie ?? '';
    // Two cookies of the name mean one was planted: neither is trusted (no first-wins).
    const copies = header
      .split(';')
      .filter((pair) => pair.trim().startsWith(`${REFRESH_COOKIE_NAME}=`));
    if (copies.length > 1) {
      throw new BadRequestException({
        error: 'invalid_request',
        message: `The request carries ${copies.length} ${REFRESH_COOKIE_NAME} cookies; send one`,
      });
    }
    return parse(header)[REFRESH_COOKIE_NAME] ?? fromBody;
  }

  clear(reply: FastifyReply): void {
    if (!this.enabled) return;
    reply.header(
      'set-cookie',
      serialize(REFRESH_COOKIE_NAME, '', { ...this.attributes(), maxAge: 0 }),
    );
  }

  private attributes() {
    // No Domain, Path=/ and Secure: what the __Host- prefix requires.
    return { httpOnly: true, secure: true, sameSite: 'strict' as const, path: '/' };
  }
}
