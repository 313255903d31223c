import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { AuditService } from '../audit/audit.service';
import type { RequestContext } from '../auth/auth.service';
import { ClientsService } from '../clients/clients.service';
import { authServiceConfig } from '../config/auth-service.config';
import { KeysService } from '../keys/keys.service';
import { SessionsService } from '../sessions/sessions.service';
import { AuthorizationPageError } from './authorization.errors';
import type { BrowserSession } from './authorization.repository';
import { BrowserSessionsService } from './browser-sessions.service';
import { readIdTokenHint } from './id-token-hint';
import type { IdTokenHint } from './id-token-hint';

/** The parameters of RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2). */
export interface EndSessionRequest {
  id_token_hint?: string;
  client_id?: string;
  post_logout_redirect_uri?: string;
  state?: string;
}

/** A checked logout request: whom it is for and where the browser goes afterwards. */
export interface CheckedEndSession {
  hint?: IdTokenHint;
  clientId?: string;
  /** The registered post-logout URI with `state`, or undefined for the signed-out page. */
  location?: string;
}

/**
 * `end_session_endpoint`: ends the browser session and the token sessions it produced (each
 * announced on the revocation feed), and the session the `id_token_hint` names. The browser goes
 * only to a `post_logout_redirect_uri` registered for the client, exactly as written (A7).
 */
@Injectable()
export class EndSessionService {
  constructor(
    private readonly clients: ClientsService,
    private readonly keys: KeysService,
    private readonly browserSessions: BrowserSessionsService,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  /** @throws AuthorizationPageError for a foreign hint, another client or an unregistered URI */
  async check(request: EndSessionRequest): Promise<CheckedEndSession> {
    const hint =
      request.id_token_hint === undefined
        ? undefined
        : await readIdTokenHint(request.id_token_hint, this.environment.ISSUER, (kid) =>
            this.keys.key(kid),
          );
    if (request.id_token_hint !== undefined && !hint) {
      throw new AuthorizationPageError('The id_token_hint was not issued by this server');
    }
    if (hint && request.client_id !== undefined && hint.clientId !== request.client_id) {
      throw new AuthorizationPageError('The id_token_hint was issued to another client');
    }
    const clientId = request.client_id ?? hint?.clientId;
    const uri = request.post_logout_redirect_uri;
    if (uri === undefined) return { ...(hint && { hint }), ...(clientId && { clientId }) };
    const client = clientId === undefined ? null : await this.clients.find(clientId);
    if (!client || !client.postLogoutRedirectUris.includes(uri)) {
      throw new AuthorizationPageError(
        'The post_logout_redirect_uri is not registered for this client',
      );
    }
    const location = new URL(uri);
    if (request.state !== undefined) location.searchParams.append('state', request.state);
    return { ...(hint && { hint }), clientId: client.id, location: location.href };
  }

  /** Ends the browser session, its token sessions, and the hint's session if it is the same user's. */
  async end(
    checked: CheckedEndSession,
    browser: BrowserSession | null,
    context: RequestContext,
  ): Promise<void> {
    if (browser && (!checked.hint || checked.hint.subject === browser.userId)) {
      await this.browserSessions.end(browser, context);
    }
    const sessionId = checked.hint?.sessionId;
    if (!sessionId) return;
    const session = await this.sessions.revoke(sessionId, 'logout');
    if (session && session.userId === checked.hint?.subject) {
      await this.audit.record({ type: 'logout', userId: session.userId, sessionId, ...context });
    }
  }
}
