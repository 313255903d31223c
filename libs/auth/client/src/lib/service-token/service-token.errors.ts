/** Why no service token could be had. */
export type ServiceTokenErrorReason =
  /** AuthModule has no `client` option. */
  | 'not_configured'
  /** The token endpoint could not be reached, or did not answer within the timeout. */
  | 'unreachable'
  /** The token endpoint answered with an HTTP error, such as 401 `invalid_client`. */
  | 'refused'
  /** The token endpoint answered 2xx, but not with a usable Bearer token. */
  | 'invalid_response';

/**
 * Why `ServiceTokenProvider` has no token for an outgoing call. The message says what happened
 * (the HTTP status and the RFC 6749 `error` and `error_description` when the endpoint sent them)
 * and never holds the client secret or a token, so it is safe to log.
 */
export class ServiceTokenError extends Error {
  readonly code = 'service_token_unavailable';
  /** The token endpoint's HTTP status, when it answered. */
  readonly status: number | undefined;
  /** The RFC 6749 §5.2 `error` code, such as `invalid_client`, when the endpoint sent one. */
  readonly oauthError: string | undefined;

  constructor(
    readonly reason: ServiceTokenErrorReason,
    message: string,
    details: { status?: number; oauthError?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = ServiceTokenError.name;
    this.status = details.status;
    this.oauthError = details.oauthError;
  }
}
