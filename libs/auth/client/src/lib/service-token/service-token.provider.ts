import { Logger } from '@nestjs/common';
import type { ResolvedServiceClientOptions } from './service-client.options';
import { ServiceTokenError } from './service-token.errors';

export interface ServiceTokenProviderOptions {
  /** This service's OAuth client; undefined when AuthModule has no `client` option. */
  client: ResolvedServiceClientOptions | undefined;
  /** Milliseconds one token request may take, answer included. */
  timeoutMs: number;
}

/** A token response is a few hundred bytes; anything this large is not one. */
const MAX_RESPONSE_LENGTH = 64 * 1024;
const MIN_REFRESH_MARGIN_MS = 30_000;
const REFRESH_MARGIN_SHARE = 0.1;
/** RFC 6749 §5.2: `error` and `error_description` are printable ASCII without `"` and `\`. */
const OAUTH_ERROR_TEXT = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;
const MAX_DESCRIPTION_LENGTH = 200;
/** RFC 6750 §2.1 b64token: what may follow `Bearer ` in an Authorization header. */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

interface CachedToken {
  value: string;
  /** Date.now() from which the token is no longer handed out. */
  refreshAt: number;
}

/**
 * An access token for this service's own outgoing calls, obtained from the issuer with the
 * client-credentials grant (RFC 6749 §4.4) and `client_secret_basic` (§2.3.1), so one Tessera
 * service calls another as itself. Configured by the `client` option of AuthModule.
 *
 * - A token is reused until less than max(30 s, 10 % of its `expires_in`) of its lifetime is
 *   left, counted from when it was requested; then the next call fetches a new one. (A token
 *   that lives 30 s or less is therefore never reused.)
 * - Concurrent callers share one request. When it fails, each of them gets a
 *   `ServiceTokenError`; a failure is not remembered, so the next call asks again.
 * - The secret and the tokens are kept in `#private` fields: logging or inspecting the provider
 *   prints neither, and no error message holds them.
 *
 * @example
 * ```ts
 * // app.module.ts
 * AuthModule.forRootAsync({
 *   inject: [reportsConfig.KEY],
 *   useFactory: (env: ConfigType<typeof reportsConfig>) => ({
 *     issuer: env.AUTH_ISSUER,
 *     audience: env.AUTH_AUDIENCE, // the tokens this service accepts
 *     client: {
 *       id: env.AUTH_CLIENT_ID,
 *       secret: env.AUTH_CLIENT_SECRET,
 *       tokenUri: env.AUTH_TOKEN_URI, // optional: <issuer>/oauth/token
 *       scope: 'orders:read',
 *       audience: 'orders-service', // the service this service calls
 *     },
 *   }),
 * }),
 *
 * // orders.client.ts
 * @Injectable()
 * export class OrdersClient {
 *   constructor(private readonly serviceToken: ServiceTokenProvider) {}
 *
 *   async list(): Promise<Response> {
 *     return fetch(`${ORDERS_URL}/orders`, {
 *       headers: { authorization: await this.serviceToken.authorization() },
 *     });
 *   }
 * }
 * ```
 */
export class ServiceTokenProvider {
  private readonly logger = new Logger(ServiceTokenProvider.name);
  readonly #client: ResolvedServiceClientOptions | undefined;
  readonly #timeoutMs: number;
  #cached: CachedToken | undefined;
  #fetching: Promise<string> | undefined;

  constructor(options: ServiceTokenProviderOptions) {
    this.#client = options.client;
    this.#timeoutMs = options.timeoutMs;
  }

  /** The current access token: cached while fresh, otherwise fetched (one request for all callers). */
  async token(): Promise<string> {
    const client = this.#client;
    if (!client) {
      throw new ServiceTokenError(
        'not_configured',
        'AuthModule has no `client` option, so this service has no token of its own: ' +
          'give AuthModule.forRoot() client.id and client.secret',
      );
    }
    const cached = this.#cached;
    if (cached && Date.now() < cached.refreshAt) return cached.value;
    this.#fetching ??= this.fetchToken(client).finally(() => (this.#fetching = undefined));
    return this.#fetching;
  }

  /** `Bearer <token>`, the value of the Authorization header of an outgoing request. */
  async authorization(): Promise<string> {
    return `Bearer ${await this.token()}`;
  }

  private async fetchToken(client: ResolvedServiceClientOptions): Promise<string> {
    const requestedAt = Date.now();
    const endpoint = `The token endpoint ${client.tokenUri}`;
    const { status, text } = await this.post(client, endpoint);
    if (status < 200 || status > 299) throw refusal(client, endpoint, status, text);
    const token = readTokenResponse(endpoint, text);
    const lifetimeMs = token.expiresIn * 1000;
    const marginMs = Math.max(MIN_REFRESH_MARGIN_MS, REFRESH_MARGIN_SHARE * lifetimeMs);
    this.#cached = { value: token.accessToken, refreshAt: requestedAt + lifetimeMs - marginMs };
    this.logger.debug(`Obtained a token for client ${client.id}, valid for ${token.expiresIn} s`);
    return token.accessToken;
  }

  private async post(
    client: ResolvedServiceClientOptions,
    endpoint: string,
  ): Promise<{ status: number; text: string }> {
    try {
      const response = await fetch(client.tokenUri, {
        method: 'POST',
        headers: {
          accept: 'application/json',
          authorization: basicCredentials(client),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: grantOf(client).toString(),
        // A redirect would carry the form (and, to the same origin, the credentials) elsewhere.
        redirect: 'error',
        // The signal also bounds reading the body.
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      const reason = this.failureOf(error);
      throw new ServiceTokenError('unreachable', `${endpoint} could not be reached (${reason})`, {
        cause: error,
      });
    }
  }

  /** Duck-typed: fetch's errors come from another realm under some runners, so no instanceof. */
  private failureOf(error: unknown): string {
    const { name, message, cause } = (error ?? {}) as {
      name?: unknown;
      message?: unknown;
      cause?: unknown;
    };
    if (name === 'TimeoutError') return `no answer within ${this.#timeoutMs} ms`;
    const { code, message: causeMessage } = (cause ?? {}) as { code?: unknown; message?: unknown };
    if (typeof code === 'string') return code;
    if (typeof causeMessage === 'string') return causeMessage;
    return typeof message === 'string' ? message : String(error);
  }
}

/** The form of a client-credentials token request (RFC 6749 §4.4.2). */
function grantOf(client: ResolvedServiceClientOptions): URLSearchParams {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (client.scope !== undefined) form.set('scope', client.scope);
  if (client.audience !== undefined) form.set('resource', client.audience);
  return form;
}

/** RFC 6749 §5.2: an error response carries `error` and maybe `error_description`. */
function refusal(
  client: ResolvedServiceClientOptions,
  endpoint: string,
  status: number,
  text: string,
): ServiceTokenError {
  const body = text.length <= MAX_RESPONSE_LENGTH ? parseJsonObject(text) : undefined;
  const error = oauthText(body?.['error']);
  let description = oauthText(body?.['error_description']);
  // An endpoint that echoes what it was sent must not put the secret into a log through us.
  if (description?.includes(client.secret)) description = undefined;
  if (description && description.length > MAX_DESCRIPTION_LENGTH) {
    description = `${description.slice(0, MAX_DESCRIPTION_LENGTH)}…`;
  }
  const detail = error ? `, ${error}${description ? `: ${description}` : ''}` : '';
  const message = `${endpoint} refused the request: HTTP ${status}${detail}`;
  return new ServiceTokenError('refused', message, { status, oauthError: error });
}

/**
 * RFC 6749 §2.3.1: the id and the secret are form-urlencoded (Appendix B) before they become the
 * Basic user and password, so a `:` in the id cannot move the split and a `+` survives.
 */
function basicCredentials({ id, secret }: ResolvedServiceClientOptions): string {
  return `Basic ${Buffer.from(`${formEncoded(id)}:${formEncoded(secret)}`).toString('base64')}`;
}

function formEncoded(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice('='.length);
}

/** RFC 6749 §5.1, checked: the fields this provider relies on, or a ServiceTokenError. */
function readTokenResponse(
  endpoint: string,
  text: string,
): { accessToken: string; expiresIn: number } {
  const invalid = (problem: string) =>
    new ServiceTokenError(
      'invalid_response',
      `${endpoint} answered without a usable token: ${problem}`,
    );
  if (text.length > MAX_RESPONSE_LENGTH) {
    throw invalid(`the response is longer than ${MAX_RESPONSE_LENGTH} characters`);
  }
  const body = parseJsonObject(text);
  if (!body) throw invalid('the response is not a JSON object');
  const { access_token: accessToken, token_type: tokenType, expires_in: expiresIn } = body;
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw invalid('access_token is missing or empty');
  }
  if (!BEARER_TOKEN.test(accessToken)) {
    throw invalid('access_token has characters a Bearer token cannot have');
  }
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') {
    throw invalid(`token_type is ${shown(tokenType)}, not Bearer`);
  }
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw invalid(`expires_in is ${shown(expiresIn)}, not a positive number of seconds`);
  }
  return { accessToken, expiresIn };
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function oauthText(value: unknown): string | undefined {
  return typeof value === 'string' && OAUTH_ERROR_TEXT.test(value) ? value : undefined;
}

/** A short rendering of a response field that is not the token, for a message. */
function shown(value: unknown): string {
  if (value === undefined) return 'missing';
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 32 ? `${json.slice(0, 32)}…` : json;
}
