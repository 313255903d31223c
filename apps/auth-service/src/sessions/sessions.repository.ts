import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { RefreshToken } from './refresh-token.entity';
import { Session } from './session.entity';
import type { SessionRevocationReason } from './session.entity';

/** Every column of `sessions`, named as the entity's properties, for raw RETURNING clauses. */
const SESSION_COLUMNS = `id, user_id AS "userId", client_id AS "clientId", scope, audiences,
  created_at AS "createdAt", last_used_at AS "lastUsedAt", idle_expires_at AS "idleExpiresAt",
  absolute_expires_at AS "absoluteExpiresAt", revoked_at AS "revokedAt",
  revoked_reason AS "revokedReason", user_agent AS "userAgent", client_address AS "clientAddress",
  amr, auth_time AS "authTime"`;

export type NewSession = Omit<Session, 'id' | 'revokedAt' | 'revokedReason'>;

export interface Spend {
  tokenHash: Buffer;
  successorHash: Buffer;
  clientId: string;
  now: Date;
  /** now + SESSION_IDLE_TTL; capped at the session's absolute expiry in SQL. */
  idleExpiresAt: Date;
}

/**
 * The SQL of sessions. Writes that must be atomic are single statements (CTEs), never
 * read-then-write, so they hold across instances without locks held in the application. Each
 * ends in a SELECT so TypeORM returns plain rows whatever the data-modifying parts are.
 */
@Injectable()
export class SessionsRepository {
  constructor(
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    @InjectRepository(RefreshToken) private readonly tokens: Repository<RefreshToken>,
  ) {}

  /**
   * The session and its first refresh token, in one statement, only while the user exists and is
   * not disabled: null otherwise. The user's row is locked (FOR SHARE) until the statement
   * commits, so a disable that is under way is waited for and then seen, and a disable that comes
   * later waits for the session and then ends it with the others. No session outlives a disable.
   */
  async insert(session: NewSession, tokenHash: Buffer): Promise<Session | null> {
    const [row] = await this.rows(
      `WITH owner AS (
         SELECT id FROM users WHERE id = $1 AND disabled_at IS NULL FOR SHARE
       ), session AS (
         INSERT INTO sessions (user_id, client_id, scope, audiences, created_at, last_used_at,
                               idle_expires_at, absolute_expires_at, user_agent, client_address,
                               amr, auth_time)
         SELECT id, $2::text, $3::text, $10::text[], $4::timestamptz, $4::timestamptz,
                $5::timestamptz, $6::timestamptz, $7::text, $8::text, $11::text[], $12::timestamptz
           FROM owner
         RETURNING ${SESSION_COLUMNS}
       ), token AS (
         INSERT INTO refresh_tokens (session_id, token_hash, created_at)
         SELECT id, $9, $4 FROM session
       )
       SELECT * FROM session`,
      [
        session.userId,
        session.clientId,
        session.scope,
        session.createdAt,
        session.idleExpiresAt,
        session.absoluteExpiresAt,
        session.userAgent,
        session.clientAddress,
        tokenHash,
        session.audiences,
        session.amr,
        session.authTime,
      ],
    );
    return row ?? null;
  }

  /**
   * Gives a live session a new refresh-token family in one statement: its refresh tokens, spent
   * or not, are deleted and `tokenHash` becomes its only one; its idle expiry slides as on a
   * rotation. Null, and nothing changed, if the session is revoked or expired.
   */
  async renew(
    id: string,
    tokenHash: Buffer,
    now: Date,
    idleExpiresAt: Date,
  ): Promise<Session | null> {
    const [row] = await this.rows(
      `WITH session AS (
         UPDATE sessions
            SET last_used_at = $3, idle_expires_at = LEAST($4, absolute_expires_at)
          WHERE id = $1 AND revoked_at IS NULL
            AND idle_expires_at > $3 AND absolute_expires_at > $3
         RETURNING ${SESSION_COLUMNS}
       ), dropped AS (
         DELETE FROM refresh_tokens WHERE session_id = (SELECT id FROM session)
       ), token AS (
         INSERT INTO refresh_tokens (session_id, token_hash, created_at)
         SELECT id, $2, $3 FROM session
       )
       SELECT * FROM session`,
      [id, tokenHash, now, idleExpiresAt],
    );
    return row ?? null;
  }

  /**
   * Spends the token and records its successor in ONE statement (checklist F3): the token must be
   * unused and its session live and bound to `clientId`. Of any number of concurrent calls for
   * one token, PostgreSQL lets exactly one past `used_at IS NULL`; the others get null.
   * The session's `revoked_at IS NULL` is checked again on the row it updates, so a revocation
   * that commits meanwhile wins. Returns the session, its idle expiry slid forward.
   */
  async spend(spend: Spend): Promise<Session | null> {
    const [row] = await this.rows(
      `WITH spent AS (
         UPDATE refresh_tokens AS token SET used_at = $2
           FROM sessions AS session
          WHERE token.token_hash = $1
            AND token.used_at IS NULL
            AND session.id = token.session_id
            AND session.client_id = $3
            AND session.revoked_at IS NULL
            AND session.idle_expires_at > $2
            AND session.absolute_expires_at > $2
         RETURNING token.id, token.session_id
       ), successor AS (
         INSERT INTO refresh_tokens (session_id, parent_id, token_hash, created_at)
         SELECT session_id, id, $4, $2 FROM spent
       ), touched AS (
         UPDATE sessions
            SET last_used_at = $2, idle_expires_at = LEAST($5, absolute_expires_at)
          WHERE id = (SELECT session_id FROM spent) AND revoked_at IS NULL
         RETURNING ${SESSION_COLUMNS}
       )
       SELECT * FROM touched`,
      [spend.tokenHash, spend.now, spend.clientId, spend.successorHash, spend.idleExpiresAt],
    );
    return row ?? null;
  }

  findToken(tokenHash: Buffer): Promise<RefreshToken | null> {
    return this.tokens.findOneBy({ tokenHash });
  }

  /** The token that replaced `tokenId`, if it was spent. */
  findSuccessor(tokenId: string): Promise<RefreshToken | null> {
    return this.tokens.findOneBy({ parentId: tokenId });
  }

  findById(id: string): Promise<Session | null> {
    return this.sessions.findOneBy({ id });
  }

  /** Not revoked and within both lifetimes at `now`. */
  async findActive(id: string, now: Date): Promise<Session | null> {
    const [row] = await this.rows(
      `SELECT ${SESSION_COLUMNS} FROM sessions
        WHERE id = $1 AND revoked_at IS NULL AND idle_expires_at > $2 AND absolute_expires_at > $2`,
      [id, now],
    );
    return row ?? null;
  }

  /** Active sessions of a user, most recently used first. */
  async listActive(userId: string, now: Date): Promise<Session[]> {
    return this.rows(
      `SELECT ${SESSION_COLUMNS} FROM sessions
        WHERE user_id = $1 AND revoked_at IS NULL AND idle_expires_at > $2 AND absolute_expires_at > $2
        ORDER BY last_used_at DESC, created_at DESC`,
      [userId, now],
    );
  }

  /**
   * The ids of the user's live sessions beyond the `keep` most recently used, `exceptId` left out
   * of both (the session just started): the ones to end to stay within a cap. Least recently
   * used last; ties go to the older session.
   */
  async activeBeyond(userId: string, keep: number, exceptId: string, now: Date): Promise<string[]> {
    const rows = await this.rows<{ id: string }>(
      `SELECT id FROM sessions
        WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL
          AND idle_expires_at > $3 AND absolute_expires_at > $3
        ORDER BY last_used_at DESC, created_at DESC, id
        OFFSET $4`,
      [userId, exceptId, now, keep],
    );
    return rows.map((row) => row.id);
  }

  /** Ends the session unless it already was; returns it only when this call ended it. */
  async revoke(id: string, reason: SessionRevocationReason, now: Date): Promise<Session | null> {
    const [row] = await this.rows(
      `WITH revoked AS (
         UPDATE sessions SET revoked_at = $2, revoked_reason = $3
          WHERE id = $1 AND revoked_at IS NULL
         RETURNING ${SESSION_COLUMNS}
       )
       SELECT * FROM revoked`,
      [id, now, reason],
    );
    return row ?? null;
  }

  /**
   * Ends every unrevoked session of the user but `exceptSessionId`; returns how many. The user's
   * hosted-page sign-ins (browser_sessions) end with them, but the one the kept session came
   * from: else a page session elsewhere would go on issuing authorization codes after a password
   * change, a logout everywhere or a disable. So do the sign-ins waiting for a second factor
   * (`mfa_token`s), which the old password started.
   */
  async revokeAllForUser(
    userId: string,
    reason: SessionRevocationReason,
    now: Date,
    exceptSessionId: string | null,
  ): Promise<number> {
    // Each ended session is announced by a trigger; ending all of them (no exception) is also
    // announced user-wide, so resource services refuse the user's earlier tokens by `sub` too.
    const rows = await this.rows<{ id: string }>(
      `WITH revoked AS (
         UPDATE sessions SET revoked_at = $2, revoked_reason = $3
          WHERE user_id = $1 AND revoked_at IS NULL AND id IS DISTINCT FROM $4
         RETURNING id
       ), announced AS (
         INSERT INTO revocations (kind, subject, revoked_at)
         SELECT 'user', $1::text, $2 WHERE $4::uuid IS NULL
       ), pages AS (
         UPDATE browser_sessions SET ended_at = $2
          WHERE user_id = $1 AND ended_at IS NULL
            AND id IS DISTINCT FROM (SELECT browser_session_id FROM sessions WHERE id = $4)
       ), pending AS (
         DELETE FROM mfa_pending_sign_ins WHERE user_id = $1
       )
       SELECT id FROM revoked`,
      [userId, now, reason, exceptSessionId],
    );
    return rows.length;
  }

  private rows<T = Session>(sql: string, parameters: unknown[]): Promise<T[]> {
    return this.sessions.query(sql, parameters);
  }

  /**
   * Deletes sessions that ended (revoked or expired) before `before`; their refresh tokens go
   * with them (ON DELETE CASCADE). Live sessions keep every spent token: reuse is recognised by
   * finding a spent token's hash. Returns how many sessions went.
   */
  async deleteEndedBefore(before: Date): Promise<number> {
    const result = await this.sessions
      .createQueryBuilder()
      .delete()
      .where('revoked_at < :before OR idle_expires_at < :before OR absolute_expires_at < :before', {
        before,
      })
      .execute();
    return result.affected ?? 0;
  }
}
