import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { authServiceConfig } from '../config/auth-service.config';
import { AMR, Clock } from '@tessera/auth-token';
import { IssuanceMetrics } from '../metrics/issuance-metrics';
import { InvalidGrantError } from './invalid-grant.error';
import { RefreshTokenCrypto } from './refresh-token.crypto';
import type { RefreshToken } from './refresh-token.entity';
import type { Session, SessionRevocationReason } from './session.entity';
import { SessionsRepository } from './sessions.repository';

/** Who logs in, on which client, from where (checklist I13: each login is a new session). */
export interface StartSession {
  userId: string;
  clientId: string;
  /** Space-separated scopes already granted by the caller. */
  scope: string;
  /** The audiences (`aud`) already granted by the caller; refreshes may narrow them. */
  audiences: readonly string[];
  userAgent?: string | null;
  clientAddress?: string | null;
  /** RFC 8176 methods the sign-in used; default `['pwd']`, a password alone. */
  amr?: readonly string[];
  /** When that sign-in happened, if before now (a hosted page's, for a code exchange). */
  authTime?: Date;
}

/** A session with the refresh token to hand to the client. The token is never stored. */
export interface IssuedRefreshToken {
  session: Session;
  /** 43 base64url characters; return it to the client and forget it. */
  refreshToken: string;
}

/** A new session, and the user's sessions it ended to stay within MAX_SESSIONS_PER_USER. */
export interface StartedSession extends IssuedRefreshToken {
  /** Revoked with reason `revoked` (announced like any revocation); usually none. */
  ended: Session[];
}

/** What a user may see of their own active sessions. */
export interface ActiveSession {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  userAgent: string | null;
  clientAddress: string | null;
}

/**
 * A session cannot start: its user is disabled (or gone), perhaps by an admin while the login was
 * in flight. The login layer answers it like any refused login.
 */
export class UserDisabledError extends Error {
  override readonly name = 'UserDisabledError';

  constructor() {
    super('The account is disabled');
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Sessions (refresh-token families): login, rotation with reuse detection and a grace window,
 * and revocation (checklist F1–F10, I8, I13). No HTTP here: the auth layer maps
 * {@link InvalidGrantError} to 400 `invalid_grant` and writes the audit log.
 *
 * @example
 * const { session, refreshToken } = await sessions.start({ userId, clientId, scope, audiences, userAgent, clientAddress });
 * const next = await sessions.rotate(refreshToken, { clientId }); // throws InvalidGrantError
 * await sessions.revokeByRefreshToken(next.refreshToken, 'logout');
 */
@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);

  constructor(
    private readonly store: SessionsRepository,
    private readonly tokens: RefreshTokenCrypto,
    private readonly clock: Clock,
    private readonly metrics: IssuanceMetrics,
    @Inject(authServiceConfig.KEY) private readonly env: ConfigType<typeof authServiceConfig>,
  ) {}

  /**
   * Starts a new session and issues its first refresh token. Every login calls this: sessions are
   * never reused across logins. Idle expiry is SESSION_IDLE_TTL from now, absolute expiry
   * SESSION_ABSOLUTE_TTL from now (the idle one never later than the absolute one).
   *
   * A user holds at most MAX_SESSIONS_PER_USER live sessions (F11): past it, the new session ends
   * the user's sessions used the longest ago (through {@link revoke}, so each is announced to
   * resource services like any revocation) rather than refusing the sign-in. Simultaneous
   * sign-ins may leave one or two over the cap until the next one.
   *
   * @throws UserDisabledError if the user is disabled or gone when the session would start: the
   *   check and the insert are one statement that locks the user's row, so a concurrent disable
   *   either comes first and is seen, or comes after and ends this session with the others.
   */
  async start(input: StartSession): Promise<StartedSession> {
    const now = this.clock.now();
    const refreshToken = this.tokens.generate();
    const absoluteExpiresAt = secondsAfter(now, this.env.SESSION_ABSOLUTE_TTL);
    const session = await this.store.insert(
      {
        userId: input.userId,
        clientId: input.clientId,
        scope: input.scope,
        audiences: [...input.audiences],
        createdAt: now,
        lastUsedAt: now,
        idleExpiresAt: earliest(secondsAfter(now, this.env.SESSION_IDLE_TTL), absoluteExpiresAt),
        absoluteExpiresAt,
        userAgent: input.userAgent ?? null,
        clientAddress: input.clientAddress ?? null,
        amr: [...(input.amr ?? [AMR.password])],
        authTime: input.authTime ?? null,
      },
      this.tokens.hash(refreshToken),
    );
    if (!session) throw new UserDisabledError();
    this.metrics.tokenIssued('refresh');
    return { session, refreshToken, ended: await this.endBeyondCap(session, now) };
  }

  /**
   * Spends `refreshToken` and returns its successor (checklist F1), sliding the session's idle
   * expiry (never past its absolute expiry). The spend is one atomic statement, so concurrent
   * calls with one token never yield two live successors (F3).
   *
   * A token already spent is answered with the same successor again if it comes back within
   * REFRESH_REUSE_GRACE seconds and that successor is still unused (F4); otherwise it is reuse
   * (F2): the session is revoked with reason `reuse_detected` and the error says so.
   *
   * @param options.clientId the client presenting the token; another client's token is refused
   *   without touching its session (F5).
   * @param options.now defaults to the Clock.
   * @throws InvalidGrantError for a malformed, unknown, other client's, revoked, expired or reused
   *   token; `reason` tells which, for logs only.
   */
  async rotate(
    refreshToken: string,
    options: { clientId: string; now?: Date },
  ): Promise<IssuedRefreshToken> {
    if (!this.tokens.isWellFormed(refreshToken)) throw new InvalidGrantError('malformed');
    const now = options.now ?? this.clock.now();
    const successor = this.tokens.successorOf(refreshToken);
    const session = await this.store.spend({
      tokenHash: this.tokens.hash(refreshToken),
      successorHash: this.tokens.hash(successor),
      clientId: options.clientId,
      now,
      idleExpiresAt: secondsAfter(now, this.env.SESSION_IDLE_TTL),
    });
    if (session) {
      this.metrics.tokenIssued('refresh');
      return { session, refreshToken: successor };
    }
    return this.retryOrRefuse(refreshToken, successor, options.clientId, now);
  }

  /**
   * Gives a live session a fresh refresh-token family, as after a password change: every refresh
   * token it had stops working, and the new family's first token is returned. A token of the old
   * family is unknown from then on, so whoever presents one later is refused without ending the
   * session (no reuse detection against the session's rightful owner). The session keeps its id,
   * so its access tokens (`sid`) stay valid.
   * @returns null if the session is revoked, expired or does not exist.
   */
  async renew(sessionId: string): Promise<IssuedRefreshToken | null> {
    if (!UUID.test(sessionId)) return null;
    const now = this.clock.now();
    const refreshToken = this.tokens.generate();
    const session = await this.store.renew(
      sessionId,
      this.tokens.hash(refreshToken),
      now,
      secondsAfter(now, this.env.SESSION_IDLE_TTL),
    );
    if (!session) return null;
    this.metrics.tokenIssued('refresh');
    return { session, refreshToken };
  }

  /**
   * Ends a session; its refresh tokens stop working at once. Idempotent.
   * @returns the session if this call ended it; null if it was already ended or does not exist.
   */
  async revoke(sessionId: string, reason: SessionRevocationReason): Promise<Session | null> {
    if (!UUID.test(sessionId)) return null;
    return this.ended(await this.store.revoke(sessionId, reason, this.clock.now()), reason);
  }

  /**
   * Ends the session of any of its refresh tokens, spent or not (logout, RFC 7009 revocation).
   * Idempotent: an unknown, malformed or already-revoked token is not an error (F10).
   * @param options.clientId when given, another client's token is left alone (RFC 7009 §2.1).
   * @returns the session if this call ended it, otherwise null.
   */
  async revokeByRefreshToken(
    refreshToken: string,
    reason: SessionRevocationReason,
    options: { clientId?: string } = {},
  ): Promise<Session | null> {
    if (!this.tokens.isWellFormed(refreshToken)) return null;
    const token = await this.store.findToken(this.tokens.hash(refreshToken));
    if (!token) return null;
    if (options.clientId !== undefined) {
      const session = await this.store.findById(token.sessionId);
      if (session?.clientId !== options.clientId) return null;
    }
    return this.ended(await this.store.revoke(token.sessionId, reason, this.clock.now()), reason);
  }

  /**
   * Ends every session of the user (F9: logout-all, password change, disabled user), but
   * `exceptSessionId` when given, so a password change can keep the session that made it.
   * @returns how many sessions this call ended.
   */
  async revokeAllForUser(
    userId: string,
    reason: SessionRevocationReason,
    options: { exceptSessionId?: string } = {},
  ): Promise<number> {
    if (!UUID.test(userId)) return 0;
    const except = options.exceptSessionId;
    const ended = await this.store.revokeAllForUser(
      userId,
      reason,
      this.clock.now(),
      except !== undefined && UUID.test(except) ? except : null,
    );
    this.metrics.sessionsRevoked(reason, ended);
    return ended;
  }

  /** The user's active sessions, most recently used first, with only what the user may see. */
  async listForUser(userId: string): Promise<ActiveSession[]> {
    if (!UUID.test(userId)) return [];
    const sessions = await this.store.listActive(userId, this.clock.now());
    return sessions.map(({ id, createdAt, lastUsedAt, userAgent, clientAddress }) => ({
      id,
      createdAt,
      lastUsedAt,
      userAgent,
      clientAddress,
    }));
  }

  /**
   * The session if it is neither revoked nor expired: how an access token's `sid` is checked.
   * Any other input, a malformed id included, gives null.
   */
  findActive(sessionId: string): Promise<Session | null> {
    if (!UUID.test(sessionId)) return Promise.resolve(null);
    return this.store.findActive(sessionId, this.clock.now());
  }

  /**
   * What introspection (RFC 7662) reports of a refresh token, without spending it: its live
   * session and when the token was issued. A spent, unknown, malformed, revoked or expired token
   * gives null.
   */
  async inspectRefreshToken(
    refreshToken: string,
  ): Promise<{ session: Session; issuedAt: Date } | null> {
    if (!this.tokens.isWellFormed(refreshToken)) return null;
    const token = await this.store.findToken(this.tokens.hash(refreshToken));
    if (!token || token.usedAt) return null;
    const session = await this.store.findActive(token.sessionId, this.clock.now());
    return session ? { session, issuedAt: token.createdAt } : null;
  }

  /** Ends the user's least recently used sessions beyond MAX_SESSIONS_PER_USER, `session` kept. */
  private async endBeyondCap(session: Session, now: Date): Promise<Session[]> {
    const beyond = await this.store.activeBeyond(
      session.userId,
      this.env.MAX_SESSIONS_PER_USER - 1,
      session.id,
      now,
    );
    const ended: Session[] = [];
    for (const id of beyond) {
      const revoked = await this.revoke(id, 'revoked');
      if (revoked) ended.push(revoked);
    }
    if (ended.length > 0) {
      this.logger.log(
        `User ${session.userId} reached MAX_SESSIONS_PER_USER: ended ${ended.length} session(s) used the longest ago`,
      );
    }
    return ended;
  }

  /** Counts a session this call ended (null: it was already ended, or never existed). */
  private ended(session: Session | null, reason: SessionRevocationReason): Session | null {
    if (session) this.metrics.sessionsRevoked(reason);
    return session;
  }

  /** The spend failed: find out why, and answer a retry inside the grace window. */
  private async retryOrRefuse(
    refreshToken: string,
    successor: string,
    clientId: string,
    now: Date,
  ): Promise<IssuedRefreshToken> {
    const token = await this.store.findToken(this.tokens.hash(refreshToken));
    const session = token && (await this.store.findById(token.sessionId));
    if (!token || !session) throw new InvalidGrantError('unknown_token');
    const owner = { userId: session.userId, sessionId: session.id };
    if (session.clientId !== clientId) throw new InvalidGrantError('client_mismatch', owner);
    if (session.revokedAt) throw new InvalidGrantError('session_revoked', owner);
    if (!isLive(session, now)) throw new InvalidGrantError('session_expired', owner);
    // Unused, live and ours, yet the spend failed: the session changed between the two
    // statements. Refuse without side effects; the client may simply try again.
    if (!token.usedAt) throw new InvalidGrantError('unknown_token', owner);
    if (await this.isGraceRetry(token, successor, now)) return { session, refreshToken: successor };

    // Of several reuses racing, the one that revokes reports it, so the audit log has one event.
    if (!this.ended(await this.store.revoke(session.id, 'reuse_detected', now), 'reuse_detected')) {
      throw new InvalidGrantError('session_revoked', owner);
    }
    this.metrics.refreshReuseDetected();
    this.logger.warn(`Refresh token reuse detected: session ${session.id} revoked`);
    throw new InvalidGrantError('reuse_detected', owner);
  }

  /**
   * The grace rule (F4). A spent token T is a retry, answered with its successor S again, only if
   * 1. REFRESH_REUSE_GRACE > 0 and T was spent less than that many seconds ago, and
   * 2. S is still unused.
   * If S was already used, the holder of S has moved the chain on, so whoever still presents T is
   * a second party (a thief, or a client that forked): handing out S again would give a spent
   * token, and issuing S's successor would start a second chain from an old token. So that is
   * reuse. T only ever gets S, which is recomputed (HMAC) rather than stored, so a retry never
   * creates a second live chain.
   */
  private async isGraceRetry(token: RefreshToken, successor: string, now: Date): Promise<boolean> {
    const graceMs = this.env.REFRESH_REUSE_GRACE * 1000;
    if (graceMs === 0 || !token.usedAt) return false;
    if (now.getTime() - token.usedAt.getTime() >= graceMs) return false;
    const issued = await this.store.findSuccessor(token.id);
    return (
      issued !== null &&
      issued.usedAt === null &&
      issued.tokenHash.equals(this.tokens.hash(successor))
    );
  }
}

function secondsAfter(moment: Date, seconds: number): Date {
  return new Date(moment.getTime() + seconds * 1000);
}

function earliest(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}

function isLive(session: Session, now: Date): boolean {
  return (
    session.idleExpiresAt.getTime() > now.getTime() &&
    session.absoluteExpiresAt.getTime() > now.getTime()
  );
}
