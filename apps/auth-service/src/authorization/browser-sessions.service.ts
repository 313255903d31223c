import { Injectable } from '@nestjs/common';
import { AMR, Clock } from '@tessera/auth-token';
import { AuditService } from '../audit/audit.service';
import type { RequestContext } from '../auth/auth.service';
import { AuthorizationRepository } from './authorization.repository';
import type { BrowserSession } from './authorization.repository';
import { generateOpaqueToken, hashOpaqueToken, OPAQUE_TOKEN } from './opaque-token';

/** How long a sign-in on the hosted pages lasts: a working day; then the pages ask again. */
export const BROWSER_SESSION_TTL_SECONDS = 8 * 60 * 60;

/**
 * Sign-ins on the hosted pages. The page-session cookie holds a 256-bit token; the database keeps
 * its SHA-256 and the session row, to which every token session the sign-in produced is bound,
 * so ending it (signing out) ends those as well and the revocation feed tells every service.
 */
@Injectable()
export class BrowserSessionsService {
  constructor(
    private readonly store: AuthorizationRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /**
   * The browser session of a user who has just authenticated with `amr` (RFC 8176), and the
   * token for its cookie (always a new one). A browser already signed in as the same user keeps
   * its session with a new `auth_time` and `amr`, so the token sessions it produced stay bound to
   * it; signed in as someone else, that session ends.
   */
  async start(
    userId: string,
    context: RequestContext,
    current: BrowserSession | null = null,
    amr: readonly string[] = [AMR.password],
  ): Promise<{ token: string; session: BrowserSession }> {
    const now = this.clock.now();
    const token = generateOpaqueToken();
    if (current?.userId === userId) {
      const renewed = await this.store.renewAuthTime(current.id, hashOpaqueToken(token), now, amr);
      if (renewed) return { token, session: renewed };
    } else if (current) {
      await this.end(current, context);
    }
    const session = await this.store.insertBrowserSession({
      userId,
      tokenHash: hashOpaqueToken(token),
      authTime: now,
      amr: [...amr],
      expiresAt: new Date(now.getTime() + BROWSER_SESSION_TTL_SECONDS * 1000),
      userAgent: context.userAgent,
      clientAddress: context.clientAddress,
    });
    return { token, session };
  }

  /** The live session of a cookie's token, or null for anything else. */
  async find(token: string | undefined): Promise<BrowserSession | null> {
    if (token === undefined || !OPAQUE_TOKEN.test(token)) return null;
    return this.store.findBrowserSession(hashOpaqueToken(token), this.clock.now());
  }

  isLive(id: string): Promise<boolean> {
    return this.store.isBrowserSessionLive(id, this.clock.now());
  }

  /** Ends the browser session and its token sessions. Idempotent. */
  async end(session: BrowserSession, context: RequestContext): Promise<void> {
    const ended = await this.store.endBrowserSession(session.id, this.clock.now());
    if (!ended) return;
    for (const sessionId of ended.sessionIds) {
      await this.audit.record({ type: 'logout', userId: ended.userId, sessionId, ...context });
    }
  }
}
