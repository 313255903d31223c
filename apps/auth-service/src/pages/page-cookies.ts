import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { SerializeOptions } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BROWSER_SESSION_TTL_SECONDS } from '../authorization/browser-sessions.service';
import { authServiceConfig } from '../config/auth-service.config';
import { MFA_PENDING_TTL } from '../mfa/pending-sign-ins.service';
import { cookiesOf, setCookie } from './page-plugins';

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];
/** Where the pending-sign-in cookie goes: the second step's form and passkey options only. */
const PENDING_SIGN_IN_PATH = '/signin';

/**
 * The hosted pages' cookies: the page session and the CSRF secret. Both are HttpOnly,
 * SameSite=Lax (the redirect back from a client's site to /oauth/authorize is a top-level GET
 * that must carry the session), Path=/, no Domain, and named `__Host-…`: a browser keeps such a
 * cookie only if it is Secure and host-only, so neither a sibling subdomain nor a plain-http
 * page can plant or shadow it (RFC 6265bis §4.1.3.2).
 *
 * `__Host-` requires Secure, and the attributes follow ISSUER, not NODE_ENV: an https issuer, or
 * an http one on localhost, 127.0.0.1 or [::1], gets `__Host-` and Secure, because Chromium and
 * Firefox treat http://localhost as a secure context and keep Secure cookies set by it (the
 * browser test signs in over http://127.0.0.1 with them). Only an http issuer on another host,
 * which HttpsInProduction allows in development alone, gets plain `tessera_session` and
 * `tessera_csrf` without Secure: a browser would drop a Secure cookie there. Safari drops Secure
 * cookies on http://localhost too: develop with Chromium or Firefox, or over https.
 */
@Injectable()
export class PageCookies {
  readonly secure: boolean;
  readonly sessionName: string;
  readonly csrfName: string;
  readonly pendingSignInName: string;

  constructor(
    @Inject(authServiceConfig.KEY)
    environment: ConfigType<typeof authServiceConfig>,
  ) {
    this.secure = pageCookiesAreSecure(environment.ISSUER);
    const prefix = this.secure ? '__Host-' : '';
    this.sessionName = `${prefix}tessera_session`;
    this.csrfName = `${prefix}tessera_csrf`;
    this.pendingSignInName = `${this.secure ? '__Secure-' : ''}tessera_pending`;
  }

  /** The page-session token the browser sent, if any. */
  sessionOf(request: FastifyRequest): string | undefined {
    return cookiesOf(request)[this.sessionName];
  }

  /** The page-session cookie lasts as long as its browser session row. */
  setSession(reply: FastifyReply, token: string): void {
    setCookie(reply, this.sessionName, token, this.attributes(BROWSER_SESSION_TTL_SECONDS));
  }

  clearSession(reply: FastifyReply): void {
    setCookie(reply, this.sessionName, '', this.attributes(0));
  }

  /** The value binding a pending sign-in to this browser, if it sent one. */
  pendingSignInOf(request: FastifyRequest): string | undefined {
    return cookiesOf(request)[this.pendingSignInName];
  }

  setPendingSignIn(reply: FastifyReply, value: string): void {
    setCookie(reply, this.pendingSignInName, value, this.pendingSignInAttributes(MFA_PENDING_TTL));
  }

  clearPendingSignIn(reply: FastifyReply): void {
    setCookie(reply, this.pendingSignInName, '', this.pendingSignInAttributes(0));
  }

  /** The attributes of the page-session and CSRF cookies. */
  attributes(maxAge?: number): SerializeOptions {
    return {
      httpOnly: true,
      secure: this.secure,
      sameSite: 'lax',
      path: '/',
      ...(maxAge !== undefined && { maxAge }),
    };
  }

  private pendingSignInAttributes(maxAge: number): SerializeOptions {
    return { ...this.attributes(maxAge), sameSite: 'strict', path: PENDING_SIGN_IN_PATH };
  }
}

/** Whether the pages' cookies can be `__Host-` and Secure for this issuer (see PageCookies). */
export function pageCookiesAreSecure(issuer: string): boolean {
  const url = new URL(issuer);
  return url.protocol === 'https:' || LOOPBACK_HOSTS.includes(url.hostname);
}
