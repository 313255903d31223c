/**
 * The authorization request cannot be answered at the client's redirect URI (RFC 6749 §4.1.2.1:
 * the client or the redirect URI is missing, unknown or not registered): the user sees an error
 * page and the browser goes nowhere.
 */
export class AuthorizationPageError extends Error {
  override readonly name = 'AuthorizationPageError';
}

/** RFC 6749 §4.1.2.1 and OpenID Connect Core §3.1.2.6 error codes. */
export type AuthorizationErrorCode =
  | 'invalid_request'
  | 'unauthorized_client'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'login_required'
  | 'consent_required'
  | 'request_not_supported'
  | 'request_uri_not_supported';

/** An error for the client, sent to its (valid) redirect URI with `state` and `iss`. */
export class AuthorizationRedirectError extends Error {
  override readonly name = 'AuthorizationRedirectError';

  constructor(
    readonly code: AuthorizationErrorCode,
    readonly description: string,
  ) {
    super(description);
  }
}
