/**
 * Why a refresh token was refused. For the audit and debug logs only: clients always get the same
 * 400 `{"error":"invalid_grant"}` (checklist F8), whatever the reason.
 *
 * - `malformed`: not 43 base64url characters (empty, truncated, oversized…); no database lookup.
 * - `unknown_token`: well formed, but no such token (never issued, or altered).
 * - `client_mismatch`: issued to another client (F5); the session is left alone.
 * - `session_revoked`: its session was ended (logout, reuse, password change…).
 * - `session_expired`: idle or absolute lifetime over (F7).
 * - `reuse_detected`: a spent token came back outside the grace window (F2); the session has just
 *   been revoked, and `session` says which one.
 */
export type InvalidGrantReason =
  | 'malformed'
  | 'unknown_token'
  | 'client_mismatch'
  | 'session_revoked'
  | 'session_expired'
  | 'reuse_detected';

/**
 * The one error SessionsService throws for a refresh token that cannot be used. The HTTP layer
 * maps it to 400 `invalid_grant`; `reason` is a stable code for logs. Its message never contains
 * the token.
 *
 * @example
 * try { await sessions.rotate(token, { clientId }); }
 * catch (error) { if (error instanceof InvalidGrantError && error.reason === 'reuse_detected') audit(error.session); throw error; }
 */
export class InvalidGrantError extends Error {
  override readonly name = 'InvalidGrantError';

  constructor(
    readonly reason: InvalidGrantReason,
    /** The session the token belongs to, when it is known. */
    readonly session?: { userId: string; sessionId: string },
  ) {
    super(`Refresh token refused: ${reason}`);
  }
}
