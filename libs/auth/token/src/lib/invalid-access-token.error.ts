/** Why a token was refused: for the debug log only, never for the client (RFC 6750 says little). */
export type InvalidAccessTokenReason =
  | 'malformed'
  | 'algorithm'
  | 'type'
  | 'unsupported_header'
  | 'unknown_key'
  | 'signature'
  | 'expired'
  | 'not_yet_valid'
  | 'issuer'
  | 'audience'
  | 'claims';

/**
 * Any refusal of an access token. The message names the reason (and at most a claim name), never
 * the token, so it is safe for the debug log.
 */
export class InvalidAccessTokenError extends Error {
  readonly code = 'invalid_access_token';

  constructor(
    readonly reason: InvalidAccessTokenReason,
    detail?: string,
  ) {
    super(`Access token refused (${reason})${detail ? `: ${detail}` : ''}`);
    this.name = InvalidAccessTokenError.name;
  }
}
