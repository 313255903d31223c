import type { RevocationEvent, RevocationSink } from '@tessera/auth-client';
import type { Principal } from '@tessera/auth-token';

const PRUNE_EVERY_MS = 30_000;

/**
 * The sessions (by `sid`) and users (by `sub`, for tokens issued before a moment) whose access
 * tokens are refused although they still verify. Two map lookups per request, however many
 * entries; each entry stays only until no token it covers can still be valid (`exp_by`), so the
 * list is bounded by the revocations of one access-token lifetime.
 */
export class RevocationList implements RevocationSink {
  private readonly sessions = new Map<string, number>();
  private readonly users = new Map<string, { before: number; until: number }>();
  private prunedAt = Date.now();

  /** Whether the token of `principal` is revoked: its session, or its user since before its `iat`. */
  isRevoked(principal: Principal): boolean {
    if (principal.sessionId !== undefined && this.sessions.has(principal.sessionId)) return true;
    const user = this.users.get(principal.subject);
    return user !== undefined && principal.issuedAt < user.before;
  }

  add(events: readonly RevocationEvent[]): void {
    const now = Date.now();
    for (const event of events) {
      const until = event.exp_by * 1000;
      if (until <= now) continue;
      if (event.kind === 'session' && event.sid) {
        this.sessions.set(event.sid, Math.max(until, this.sessions.get(event.sid) ?? 0));
      } else if (event.kind === 'user') {
        const known = this.users.get(event.sub);
        this.users.set(event.sub, {
          before: Math.max(event.revoked_at, known?.before ?? 0),
          until: Math.max(until, known?.until ?? 0),
        });
      }
    }
    if (now - this.prunedAt >= PRUNE_EVERY_MS) this.prune(now);
  }

  /** Drops what no token can need any more. */
  prune(now = Date.now()): void {
    this.prunedAt = now;
    for (const [sid, until] of this.sessions) if (until <= now) this.sessions.delete(sid);
    for (const [sub, entry] of this.users) if (entry.until <= now) this.users.delete(sub);
  }

  get size(): number {
    return this.sessions.size + this.users.size;
  }
}
