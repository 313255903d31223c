import * as oauth from 'oauth4webapi';

/** What server.mjs serves as /config.json, from its environment: nothing is built in. */
export interface WebConfig {
  /** auth-service's issuer URL; everything else about it comes from its discovery document. */
  issuer: string;
  clientId: string;
  /** resource-service's base URL. */
  notesUrl: string;
}

/** What survives the round trip to the sign-in page, in this tab only; no token is ever stored. */
const PENDING_SIGN_IN = 'tessera-web:pending-sign-in';
const SCOPE = 'openid email notes:read notes:write';

interface PendingSignIn {
  codeVerifier: string;
  state: string;
  nonce: string;
}

interface Tokens {
  accessToken: string;
  refreshToken: string | undefined;
  /** For the end-session request (id_token_hint). */
  idToken: string;
  email: string | undefined;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/**
 * Sign-in with authorization code + PKCE (oauth4webapi), the tokens it yields held in memory only
 * (a reload signs in again, which the sign-in page's session makes one redirect), refreshed with
 * rotation before the access token expires, and RP-initiated logout.
 */
export class Session {
  private tokens: Tokens | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(
    private readonly server: oauth.AuthorizationServer,
    private readonly client: oauth.Client,
    /** Plain http only to a loopback issuer, as in development. */
    private readonly http: { [oauth.allowInsecureRequests]: boolean },
    private readonly onEnded: (reason: string) => void,
  ) {}

  /** Reads the issuer's discovery document. `onEnded` hears when a refresh is refused. */
  static async discover(config: WebConfig, onEnded: (reason: string) => void): Promise<Session> {
    const issuer = new URL(config.issuer);
    const http = {
      [oauth.allowInsecureRequests]: ['localhost', '127.0.0.1', '[::1]'].includes(issuer.hostname),
    };
    const response = await oauth.discoveryRequest(issuer, { ...http, algorithm: 'oidc' });
    const server = await oauth.processDiscoveryResponse(issuer, response);
    return new Session(server, { client_id: config.clientId }, http, onEnded);
  }

  get signedIn(): boolean {
    return this.tokens !== undefined;
  }

  get email(): string | undefined {
    return this.tokens?.email;
  }

  /** Goes to auth-service's sign-in page; it comes back to /callback. */
  async signIn(): Promise<void> {
    const pending: PendingSignIn = {
      codeVerifier: oauth.generateRandomCodeVerifier(),
      state: oauth.generateRandomState(),
      nonce: oauth.generateRandomNonce(),
    };
    sessionStorage.setItem(PENDING_SIGN_IN, JSON.stringify(pending));
    const url = new URL(this.endpoint('authorization_endpoint'));
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.client.client_id,
      redirect_uri: redirectUri(),
      scope: SCOPE,
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
    }).toString();
    location.assign(url);
  }

  /** Checks the answer at /callback (state, iss) and trades its code for tokens. */
  async completeSignIn(callback: URL): Promise<void> {
    const saved = sessionStorage.getItem(PENDING_SIGN_IN);
    sessionStorage.removeItem(PENDING_SIGN_IN);
    if (!saved) throw new Error('No sign-in was under way in this tab.');
    const pending = JSON.parse(saved) as PendingSignIn;
    const parameters = oauth.validateAuthResponse(
      this.server,
      this.client,
      callback,
      pending.state,
    );
    const response = await oauth.authorizationCodeGrantRequest(
      this.server,
      this.client,
      oauth.None(),
      parameters,
      redirectUri(),
      pending.codeVerifier,
      this.http,
    );
    this.keep(
      await oauth.processAuthorizationCodeResponse(this.server, this.client, response, {
        expectedNonce: pending.nonce,
        requireIdToken: true,
      }),
    );
  }

  /** A current access token, refreshed first if it has expired (a sleeping laptop's timers). */
  async accessToken(): Promise<string> {
    if (this.tokens && Date.now() >= this.tokens.expiresAt) await this.refresh();
    if (!this.tokens) throw new Error('You are signed out.');
    return this.tokens.accessToken;
  }

  /** Ends the session at auth-service (RP-initiated logout), which comes back to this page. */
  signOut(): void {
    const idToken = this.tokens?.idToken;
    this.forget();
    const url = new URL(this.endpoint('end_session_endpoint'));
    url.search = new URLSearchParams({
      client_id: this.client.client_id,
      post_logout_redirect_uri: `${location.origin}/`,
      ...(idToken && { id_token_hint: idToken }),
    }).toString();
    location.assign(url);
  }

  /** One refresh at a time: the refresh token is single-use, and a reuse ends the session. */
  private refresh(): Promise<void> {
    this.refreshing ??= this.rotate().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async rotate(): Promise<void> {
    const refreshToken = this.tokens?.refreshToken;
    if (!refreshToken) return this.end('Your session has expired; sign in again.');
    try {
      const response = await oauth.refreshTokenGrantRequest(
        this.server,
        this.client,
        oauth.None(),
        refreshToken,
        this.http,
      );
      this.keep(await oauth.processRefreshTokenResponse(this.server, this.client, response));
    } catch (error) {
      // invalid_grant: the session ended elsewhere (signed out, revoked, expired).
      this.end(`Your session has ended; sign in again. (${describe(error)})`);
    }
  }

  private keep(response: oauth.TokenEndpointResponse): void {
    const claims = oauth.getValidatedIdTokenClaims(response);
    const lifetime = (response.expires_in ?? 60) * 1000;
    this.tokens = {
      accessToken: response.access_token,
      // Rotation: each refresh answers a new refresh token and spends the old one.
      refreshToken: response.refresh_token ?? this.tokens?.refreshToken,
      idToken: response.id_token ?? this.tokens?.idToken ?? '',
      email: typeof claims?.['email'] === 'string' ? claims['email'] : this.tokens?.email,
      expiresAt: Date.now() + lifetime,
    };
    // Refresh three quarters of the way through the access token's life.
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refresh(), lifetime * 0.75);
  }

  private end(reason: string): void {
    this.forget();
    this.onEnded(reason);
  }

  private forget(): void {
    clearTimeout(this.refreshTimer);
    this.tokens = undefined;
  }

  private endpoint(name: 'authorization_endpoint' | 'end_session_endpoint'): string {
    const url = this.server[name];
    if (!url) throw new Error(`${this.server.issuer} advertises no ${name}.`);
    return url;
  }
}

const redirectUri = () => `${location.origin}/callback`;

export function describe(error: unknown): string {
  if (error instanceof oauth.AuthorizationResponseError) {
    return error.error_description ?? error.error;
  }
  if (error instanceof oauth.ResponseBodyError) return error.error_description ?? error.error;
  return error instanceof Error ? error.message : String(error);
}
