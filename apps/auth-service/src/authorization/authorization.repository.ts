import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** A signed-in browser on the hosted pages: the row behind the page-session cookie. */
export interface BrowserSession {
  id: string;
  userId: string;
  /** When the user last entered their credentials (OpenID Connect `auth_time`). */
  authTime: Date;
  /** The RFC 8176 methods of that sign-in (`pwd`, or `pwd otp mfa` after a second factor). */
  amr: string[];
  expiresAt: Date;
}

/** What an authorization code is bound to (A3). */
export interface AuthorizationCodeGrant {
  clientId: string;
  userId: string;
  browserSessionId: string;
  redirectUri: string;
  codeChallenge: string;
  scope: string;
  audiences: string[];
  nonce: string | null;
  authTime: Date;
  /** The browser session's `amr` when the code was issued: what its tokens say. */
  amr: string[];
  expiresAt: Date;
}

/** A code as its first redemption found it. */
export interface RedeemedCode extends AuthorizationCodeGrant {
  codeHash: Buffer;
}

const BROWSER_SESSION = `id, user_id AS "userId", auth_time AS "authTime", amr, expires_at AS "expiresAt"`;
const CODE = `code_hash AS "codeHash", client_id AS "clientId", user_id AS "userId",
  browser_session_id AS "browserSessionId", redirect_uri AS "redirectUri",
  code_challenge AS "codeChallenge", scope, audiences, nonce, auth_time AS "authTime", amr,
  expires_at AS "expiresAt"`;

/**
 * The tables of the authorization-code flow (migration 1763798401000), in SQL: each operation
 * that must not race (spending a code, ending a browser session and its token sessions) is one
 * statement. Only hashes of codes and page-session tokens are stored. An UPDATE … RETURNING is
 * wrapped in a CTE, as in SessionsRepository: TypeORM answers a bare one as [rows, count].
 */
@Injectable()
export class AuthorizationRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insertBrowserSession(
    session: Omit<BrowserSession, 'id'> & {
      tokenHash: Buffer;
      userAgent: string;
      clientAddress: string;
    },
  ): Promise<BrowserSession> {
    const [row] = await this.rows<BrowserSession>(
      `INSERT INTO browser_sessions (user_id, token_hash, auth_time, expires_at, user_agent, client_address, amr)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${BROWSER_SESSION}`,
      [
        session.userId,
        session.tokenHash,
        session.authTime,
        session.expiresAt,
        session.userAgent,
        session.clientAddress,
        session.amr,
      ],
    );
    return row as BrowserSession;
  }

  /** Live at `now`, and its user neither disabled nor gone. */
  async findBrowserSession(tokenHash: Buffer, now: Date): Promise<BrowserSession | null> {
    const [row] = await this.rows<BrowserSession>(
      `SELECT b.id, b.user_id AS "userId", b.auth_time AS "authTime", b.amr,
              b.expires_at AS "expiresAt"
         FROM browser_sessions b
         JOIN users u ON u.id = b.user_id AND u.disabled_at IS NULL
        WHERE b.token_hash = $1 AND b.ended_at IS NULL AND b.expires_at > $2`,
      [tokenHash, now],
    );
    return row ?? null;
  }

  /**
   * Ends the browser session and every token session it produced, in one statement; the sessions
   * trigger announces each ended token session on the revocation feed.
   * @returns the ended token sessions' ids, and the user, when this call ended the browser session
   */
  async endBrowserSession(
    id: string,
    now: Date,
  ): Promise<{ userId: string; sessionIds: string[] } | null> {
    const rows = await this.rows<{ userId: string; sessionId: string | null }>(
      `WITH ended AS (
         UPDATE browser_sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL
         RETURNING id, user_id
       ), revoked AS (
         UPDATE sessions SET revoked_at = $2, revoked_reason = 'logout'
          WHERE browser_session_id IN (SELECT id FROM ended) AND revoked_at IS NULL
         RETURNING id
       )
       SELECT ended.user_id AS "userId", revoked.id AS "sessionId"
         FROM ended LEFT JOIN revoked ON true`,
      [id, now],
    );
    if (rows.length === 0) return null;
    return {
      userId: (rows[0] as { userId: string }).userId,
      sessionIds: rows.flatMap((row) => (row.sessionId ? [row.sessionId] : [])),
    };
  }

  /**
   * The user authenticated again in this browser session (prompt=login, max_age, acr_values):
   * a new sign-in time and methods, and a new cookie token, so none from before still works.
   */
  async renewAuthTime(
    id: string,
    tokenHash: Buffer,
    now: Date,
    amr: readonly string[],
  ): Promise<BrowserSession | null> {
    const [row] = await this.rows<BrowserSession>(
      `WITH renewed AS (
         UPDATE browser_sessions SET auth_time = $2, token_hash = $3, amr = $4
          WHERE id = $1 AND ended_at IS NULL
         RETURNING ${BROWSER_SESSION}
       )
       SELECT * FROM renewed`,
      [id, now, tokenHash, amr],
    );
    return row ?? null;
  }

  /** Whether the browser session has neither ended nor expired at `now`. */
  async isBrowserSessionLive(id: string, now: Date): Promise<boolean> {
    const rows = await this.rows(
      `SELECT 1 FROM browser_sessions WHERE id = $1 AND ended_at IS NULL AND expires_at > $2`,
      [id, now],
    );
    return rows.length > 0;
  }

  /** Ties a token session to the browser session whose sign-in produced it. */
  async bindSession(sessionId: string, browserSessionId: string): Promise<void> {
    await this.dataSource.query(`UPDATE sessions SET browser_session_id = $2 WHERE id = $1`, [
      sessionId,
      browserSessionId,
    ]);
  }

  async insertCode(codeHash: Buffer, code: AuthorizationCodeGrant): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO authorization_codes (code_hash, client_id, user_id, browser_session_id,
         redirect_uri, code_challenge, scope, audiences, nonce, auth_time, expires_at, amr)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        codeHash,
        code.clientId,
        code.userId,
        code.browserSessionId,
        code.redirectUri,
        code.codeChallenge,
        code.scope,
        code.audiences,
        code.nonce,
        code.authTime,
        code.expiresAt,
        code.amr,
      ],
    );
  }

  /**
   * Spends the code: one statement, so of two racing redemptions exactly one gets the row.
   * @returns the code if this call spent it; null if it is unknown or was spent before
   */
  async spendCode(codeHash: Buffer, now: Date): Promise<RedeemedCode | null> {
    const [row] = await this.rows<RedeemedCode>(
      `WITH spent AS (
         UPDATE authorization_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL
         RETURNING ${CODE}
       )
       SELECT * FROM spent`,
      [codeHash, now],
    );
    return row ?? null;
  }

  /**
   * A spent code came back (RFC 6749 §4.1.2): marks it replayed.
   * @returns the token session its first redemption started, if that has been recorded yet
   */
  async markReplayed(codeHash: Buffer, now: Date): Promise<{ sessionId: string | null } | null> {
    const [row] = await this.rows<{ sessionId: string | null }>(
      `WITH replayed AS (
         UPDATE authorization_codes SET replayed_at = COALESCE(replayed_at, $2)
          WHERE code_hash = $1 AND used_at IS NOT NULL RETURNING session_id AS "sessionId"
       )
       SELECT * FROM replayed`,
      [codeHash, now],
    );
    return row ?? null;
  }

  /**
   * Records the token session the code's redemption started.
   * @returns whether the code was replayed meanwhile (then that session must end too)
   */
  async recordCodeSession(codeHash: Buffer, sessionId: string): Promise<boolean> {
    const [row] = await this.rows<{ replayed: boolean }>(
      `WITH recorded AS (
         UPDATE authorization_codes SET session_id = $2 WHERE code_hash = $1
         RETURNING replayed_at IS NOT NULL AS replayed
       )
       SELECT * FROM recorded`,
      [codeHash, sessionId],
    );
    return row?.replayed ?? false;
  }

  /** Codes live 60 s; spent and expired ones are kept a day for replay detection, then go. */
  async deleteCodesExpiredBefore(before: Date): Promise<void> {
    await this.dataSource.query(`DELETE FROM authorization_codes WHERE expires_at < $1`, [before]);
  }

  async consentedScopes(userId: string, clientId: string): Promise<string[]> {
    const [row] = await this.rows<{ scopes: string[] }>(
      `SELECT scopes FROM consents WHERE user_id = $1 AND client_id = $2`,
      [userId, clientId],
    );
    return row?.scopes ?? [];
  }

  /** Adds `scopes` to what the user has allowed the client. */
  async grantConsent(userId: string, clientId: string, scopes: string[], now: Date): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO consents (user_id, client_id, scopes, granted_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, client_id) DO UPDATE
         SET scopes = ARRAY(SELECT DISTINCT unnest(consents.scopes || EXCLUDED.scopes)),
             granted_at = EXCLUDED.granted_at`,
      [userId, clientId, scopes, now],
    );
  }

  private rows<T>(sql: string, parameters: unknown[]): Promise<T[]> {
    return this.dataSource.query(sql, parameters);
  }
}
