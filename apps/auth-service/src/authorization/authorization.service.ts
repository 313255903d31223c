import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { acrOf, Clock, satisfiesAuthentication } from '@tessera/auth-token';
import { ClientsService } from '../clients/clients.service';
import { authServiceConfig } from '../config/auth-service.config';
import { MfaService } from '../mfa/mfa.service';
import { AuthorizationRedirectError } from './authorization.errors';
import type { AuthorizationErrorCode } from './authorization.errors';
import { AuthorizationRepository } from './authorization.repository';
import type { BrowserSession } from './authorization.repository';
import { readAuthorizationRequest, readTarget } from './authorization-request';
import type {
  AuthorizationQuery,
  AuthorizationRequest,
  AuthorizationTarget,
} from './authorization-request';
import { ConsentsService } from './consents.service';
import { generateOpaqueToken, hashOpaqueToken } from './opaque-token';

/** RFC 9700 §4.5 and the checklist (A3): a code lives 60 seconds. */
export const AUTHORIZATION_CODE_TTL_SECONDS = 60;

/** Where the hosted pages live, below the issuer. */
export const SIGN_IN_PATH = '/signin';
export const SECOND_FACTOR_PATH = '/signin/second-factor';
export const CONSENT_PATH = '/consent';
export const AUTHORIZE_PATH = '/oauth/authorize';

/**
 * `GET /oauth/authorize` (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2): checks the request, sends
 * the browser to sign in or to consent when it must, and otherwise back to the client with a code.
 * Every answer to the client carries `iss` (RFC 9207) and `state`.
 */
@Injectable()
export class AuthorizationService {
  constructor(
    private readonly clients: ClientsService,
    private readonly consents: ConsentsService,
    private readonly store: AuthorizationRepository,
    private readonly clock: Clock,
    private readonly mfa: MfaService,
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  /**
   * The checked request, with where to send the browser if it is refused.
   * @throws AuthorizationPageError when the client or redirect URI is not valid
   */
  async read(
    query: AuthorizationQuery,
  ): Promise<{ target: AuthorizationTarget; request?: AuthorizationRequest; error?: string }> {
    const target = await readTarget(query, (id) => this.clients.find(id));
    try {
      return { target, request: readAuthorizationRequest(query, target) };
    } catch (error) {
      if (!(error instanceof AuthorizationRedirectError)) throw error;
      return { target, error: this.errorLocation(target, error.code, error.description) };
    }
  }

  /**
   * Where the browser goes next: the sign-in page, the consent page, or the client with a code
   * or an error.
   * @throws AuthorizationPageError when the client or redirect URI is not valid
   */
  async authorize(query: AuthorizationQuery, browser: BrowserSession | null): Promise<string> {
    const { request, error } = await this.read(query);
    if (!request) return error as string;
    const now = this.clock.now();
    const none = request.prompts.includes('none');
    const tooOld =
      browser !== null &&
      request.maxAge !== undefined &&
      now.getTime() - browser.authTime.getTime() > request.maxAge * 1000;
    if (!browser || request.prompts.includes('login') || tooOld) {
      if (none) return this.errorLocation(request, 'login_required', 'The user is not signed in');
      return this.signInLocation(query, request.loginHint);
    }
    if (!(await this.meetsAcr(request, browser))) {
      if (none) {
        return this.errorLocation(
          request,
          'login_required',
          'acr_values asks for a second factor, which the user has not given in this sign-in',
        );
      }
      return `${this.environment.ISSUER}${SECOND_FACTOR_PATH}?${new URLSearchParams({ continue: this.continueWith(query, 'login') })}`;
    }
    const consented = await this.consents.covers(browser.userId, request.client, request.scope);
    if (!consented || request.prompts.includes('consent')) {
      if (none) {
        return this.errorLocation(
          request,
          'consent_required',
          'The user has not allowed this client yet',
        );
      }
      return `${this.environment.ISSUER}${CONSENT_PATH}?${new URLSearchParams({ continue: this.continueWith(query, 'consent') })}`;
    }
    return this.codeLocation(request, browser, now);
  }

  /** The consent page's "deny": the client learns `access_denied`. */
  deniedLocation(target: AuthorizationTarget): string {
    return this.errorLocation(target, 'access_denied', 'The user did not allow the request');
  }

  /**
   * The authorization request again, once the user has signed in or consented. The `continue`
   * query is read and written again (as queryOf reads it), so whatever a crafted one holds (a CR
   * or LF, which Node refuses in a Location header) leaves percent-encoded.
   */
  resumeLocation(continueQuery: string): string {
    return `${this.environment.ISSUER}${AUTHORIZE_PATH}?${new URLSearchParams(continueQuery)}`;
  }

  private async codeLocation(
    request: AuthorizationRequest,
    browser: BrowserSession,
    now: Date,
  ): Promise<string> {
    const code = generateOpaqueToken();
    await this.store.insertCode(hashOpaqueToken(code), {
      clientId: request.client.id,
      userId: browser.userId,
      browserSessionId: browser.id,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      scope: request.scope,
      audiences: request.audiences,
      nonce: request.nonce ?? null,
      authTime: browser.authTime,
      amr: browser.amr,
      expiresAt: new Date(now.getTime() + AUTHORIZATION_CODE_TTL_SECONDS * 1000),
    });
    // Codes past their day of replay detection go with each new one: no job to run.
    await this.store.deleteCodesExpiredBefore(new Date(now.getTime() - 24 * 60 * 60 * 1000));
    return this.clientLocation(request, { code });
  }

  /**
   * Whether the browser's sign-in reached the `acr` that `acr_values` asks for. A user with no
   * second factor cannot reach it: `acr_values` is a voluntary request (OpenID Connect Core
   * §5.5.1.1), so the flow goes on and the ID token's `acr` says what the sign-in was.
   */
  private async meetsAcr(request: AuthorizationRequest, browser: BrowserSession): Promise<boolean> {
    if (request.acr === undefined) return true;
    const signIn = { acr: acrOf(browser.amr), authTime: undefined };
    if (satisfiesAuthentication(signIn, { acr: request.acr }, 0)) return true;
    return (await this.mfa.methodsOf(browser.userId)).length === 0;
  }

  private signInLocation(query: AuthorizationQuery, loginHint: string | undefined): string {
    const parameters = new URLSearchParams({ continue: this.continueWith(query, 'login') });
    if (loginHint !== undefined) parameters.set('login_hint', loginHint);
    return `${this.environment.ISSUER}${SIGN_IN_PATH}?${parameters}`;
  }

  /**
   * The authorization request to resume after a page: the same parameters, but the `prompt`
   * that page has just satisfied, and after a sign-in `max_age` (it has just been met), else the
   * page would be asked for again, for ever.
   */
  private continueWith(query: AuthorizationQuery, satisfied: 'login' | 'consent'): string {
    const parameters = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined || (satisfied === 'login' && name === 'max_age')) continue;
      for (const item of ([] as string[]).concat(value)) {
        if (name !== 'prompt') {
          parameters.append(name, item);
          continue;
        }
        const rest = item.split(' ').filter((prompt) => prompt !== satisfied);
        if (rest.length > 0) parameters.append(name, rest.join(' '));
      }
    }
    return parameters.toString();
  }

  private errorLocation(
    target: AuthorizationTarget,
    code: AuthorizationErrorCode,
    description: string,
  ): string {
    return this.clientLocation(target, { error: code, error_description: description });
  }

  /** The redirect URI with the response, `state` and `iss` (RFC 9207) added to its query. */
  private clientLocation(target: AuthorizationTarget, response: Record<string, string>): string {
    const location = new URL(target.redirectUri);
    for (const [name, value] of Object.entries(response)) location.searchParams.append(name, value);
    if (target.state !== undefined) location.searchParams.append('state', target.state);
    location.searchParams.append('iss', this.environment.ISSUER);
    return location.href;
  }
}
