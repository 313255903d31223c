import { Logger } from '@nestjs/common';
import type { ServiceTokenProvider } from '../service-token/service-token.provider';
/** One entry of auth-service's revocation log (GET /revocations), as it arrives. */
export interface RevocationEvent {
  /** Its position in the log: positions grow in the order revocations committed. */
  id: string;
  kind: 'session' | 'user';
  sub: string;
  sid?: string;
  /** Epoch seconds. A `user` event covers the user's tokens issued before this second. */
  revoked_at: number;
  /**
   * Epoch seconds after which no access token the event covers can still be valid: computed when
   * it was revoked from every access-token lifetime auth-service's instances recently used.
   */
  exp_by: number;
}

/** Where the feed delivers what it reads: the resource server's list of revoked sessions. */
export interface RevocationSink {
  add(events: readonly RevocationEvent[]): void;
  /** Drops entries that no live token can match any more; called every 30 s. */
  prune(): void;
}

export interface RevocationFeedOptions {
  /** auth-service's `GET /revocations`. */
  uri: string;
  /** No byte for this long (auth-service sends a heartbeat every 15 s): the connection is dead. */
  idleTimeoutMs?: number;
}

export type RevocationFeedState = 'connecting' | 'live' | 'down' | 'stopped';

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;
const PRUNE_EVERY_MS = 30_000;
/**
 * How long the feed reconnects quietly before it warns, at start-up (auth-service may still be
 * starting) and after auth-service ended the stream cleanly (it is stopping or restarting: a
 * Ctrl-C that stops the whole system, a deployment).
 */
const QUIET_RECONNECT_MS = 10_000;

/**
 * Follows auth-service's revocation log over server-sent events, as this service (a
 * client-credentials token with `revocations:read`), and fills the RevocationList the guard
 * consults. Event ids are positions in the log, in the order the revocations committed. On every
 * (re)connection it sends the last position it applied (`Last-Event-ID`), so auth-service
 * restarts, network drops and transactions that commit late lose nothing: the backlog comes
 * first, then live events. A position auth-service can no longer resume from gets `event: reset`
 * and the full list of revocations in force. Retries back off from 250 ms to 5 s.
 *
 * While the feed is down, a revoked session's access tokens are refused only once they expire
 * (the bound falls back to the access-token lifetime); the feed logs a warning when it goes
 * down and says when it is back, and `state` tells at any time. Two outages are expected and
 * warned about only when they last more than 10 s: auth-service not answering yet when the feed
 * starts, and auth-service going away after it ended the stream cleanly (it is stopping).
 */
export class RevocationFeed {
  private readonly logger = new Logger(RevocationFeed.name);
  /** Ends the open connection, whatever state its read is in. */
  private endConnection?: (reason: string) => void;
  private lastEventId?: string;
  private downSince?: number;
  /** Whether the current outage has been warned about. */
  private warned = false;
  private downReason = '';
  /** Until when failures are expected (see QUIET_RECONNECT_MS); 0: not now. */
  private quietUntil = 0;
  /** Warns once a quiet outage outlasts quietUntil. */
  private quietWarning?: NodeJS.Timeout;
  private stopped = false;
  private running?: Promise<void>;
  private pruner?: NodeJS.Timeout;
  private readyResolvers: (() => void)[] = [];
  /** Ends the wait between two attempts early, so stop() never waits out a back-off. */
  private wake?: () => void;
  state: RevocationFeedState = 'connecting';

  constructor(
    private readonly options: RevocationFeedOptions,
    private readonly list: RevocationSink,
    private readonly serviceToken: ServiceTokenProvider,
  ) {}

  start(): void {
    this.quietUntil = Date.now() + QUIET_RECONNECT_MS;
    this.running ??= this.run();
    this.pruner = setInterval(() => this.list.prune(), PRUNE_EVERY_MS);
    this.pruner.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.state = 'stopped';
    clearInterval(this.pruner);
    clearTimeout(this.quietWarning);
    this.endConnection?.('stopped');
    this.wake?.();
    await this.running;
  }

  /** Resolves once the feed has caught up with auth-service's log (for tests and start-up checks). */
  ready(): Promise<void> {
    if (this.state === 'live') return Promise.resolve();
    return new Promise((resolve) => this.readyResolvers.push(resolve));
  }

  private async run(): Promise<void> {
    let retry = FIRST_RETRY_MS;
    while (!this.stopped) {
      try {
        const reachedLive = await this.follow();
        if (reachedLive) retry = FIRST_RETRY_MS;
        // A clean end (auth-service closes the stream when the token expires, or when it stops):
        // go again at once, quietly for a while in case it is stopping.
        if (this.stopped) return;
        if (reachedLive) {
          this.quietUntil = Date.now() + QUIET_RECONNECT_MS;
          continue;
        }
      } catch (error) {
        if (this.stopped) return;
        // A connection that had caught up and then broke: back-off starts over, so the first
        // retry comes in 250 ms, not after the longest wait of an earlier outage.
        if (this.state === 'live') retry = FIRST_RETRY_MS;
        this.markDown(error instanceof Error ? error.message : String(error));
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, retry).unref();
      });
      retry = Math.min(retry * 2, MAX_RETRY_MS);
    }
  }

  /** One connection: returns whether it caught up (saw `ready`) before it ended. */
  private async follow(): Promise<boolean> {
    const controller = new AbortController();
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    let endedBy: string | undefined;
    // Aborting alone is not enough: Node 20's fetch (undici 6) can leave a body read pending
    // forever when the abort lands between two chunks (nodejs/undici#4089), which held shutdown
    // until SHUTDOWN_TIMEOUT. Cancelling the reader always settles the read.
    const end = (reason: string) => {
      endedBy ??= reason;
      controller.abort();
      void reader?.cancel().catch(() => undefined);
    };
    this.endConnection = end;
    const idleTimeoutMs = this.options.idleTimeoutMs ?? 45_000;
    const silence = `no byte for ${idleTimeoutMs / 1000} s`;
    let idle = setTimeout(() => end(silence), idleTimeoutMs);
    let reachedLive = false;
    try {
      const response = await fetch(this.options.uri, {
        headers: {
          accept: 'text/event-stream',
          authorization: await this.serviceToken.authorization(),
          ...(this.lastEventId !== undefined && { 'last-event-id': this.lastEventId }),
        },
        redirect: 'error',
        signal: controller.signal,
      });
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      reader = response.body.getReader();
      if (endedBy) throw new Error(endedBy);
      const decoder = new TextDecoder();
      let buffer = '';
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        clearTimeout(idle);
        idle = setTimeout(() => end(silence), idleTimeoutMs);
        buffer += decoder.decode(chunk.value, { stream: true });
        let boundary: number;
        while ((boundary = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          if (this.dispatch(block)) reachedLive = true;
        }
      }
      if (endedBy) throw new Error(endedBy);
      if (!reachedLive) throw new Error('the stream ended before it caught up');
      return true;
    } catch (error) {
      // Name why we ended it rather than the AbortError that followed.
      throw endedBy ? new Error(endedBy) : error;
    } finally {
      clearTimeout(idle);
      this.endConnection = undefined;
    }
  }

  /** One server-sent event; true when it is `ready`. */
  private dispatch(block: string): boolean {
    let type = 'message';
    let data = '';
    let id: string | undefined;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const separator = line.indexOf(':');
      const field = separator === -1 ? line : line.slice(0, separator);
      const value = separator === -1 ? '' : line.slice(separator + 1).replace(/^ /, '');
      if (field === 'event') type = value;
      else if (field === 'data') data += data ? `\n${value}` : value;
      else if (field === 'id') id = value;
    }
    if (type === 'revocation') this.list.add([JSON.parse(data) as RevocationEvent]);
    else if (type === 'reset') {
      // What follows is every revocation in force: entries already held stay until their
      // exp_by (a revocation is never taken back), so nothing is refused less meanwhile.
      this.logger.log(
        `auth-service's revocation log cannot resume after event ${this.lastEventId ?? 'none'} ` +
          '(pruned past, or another log): taking its full list',
      );
    }
    // An id is a position in the log: the one to resume after, once what carries it is applied.
    if (id !== undefined) this.lastEventId = id;
    if (type === 'ready') {
      this.markLive();
      return true;
    }
    return false;
  }

  private markLive(): void {
    clearTimeout(this.quietWarning);
    this.quietWarning = undefined;
    this.quietUntil = 0;
    if (this.state === 'down' && this.downSince !== undefined && this.warned) {
      const seconds = ((Date.now() - this.downSince) / 1000).toFixed(1);
      this.logger.log(
        `Revocation feed resumed after ${seconds} s, from event ${this.lastEventId ?? 'none'}`,
      );
    }
    this.state = 'live';
    this.downSince = undefined;
    this.warned = false;
    for (const resolve of this.readyResolvers.splice(0)) resolve();
  }

  private markDown(reason: string): void {
    if (this.state !== 'down') this.downSince = Date.now();
    this.state = 'down';
    this.downReason = reason;
    if (this.warned) return;
    const quietFor = this.quietUntil - Date.now();
    if (quietFor <= 0) {
      this.warnDown(reason);
    } else {
      this.logger.debug(`Revocation feed from ${this.options.uri}: ${reason}; reconnecting`);
      clearTimeout(this.quietWarning);
      this.quietWarning = setTimeout(() => {
        if (this.state === 'down' && !this.stopped) this.warnDown(this.downReason);
      }, quietFor);
      this.quietWarning.unref();
    }
  }

  private warnDown(reason: string): void {
    this.warned = true;
    this.logger.warn(
      `Revocation feed from ${this.options.uri} is down (${reason}); reconnecting. Until it is back, ` +
        'revoked sessions are refused only when their access tokens expire.',
    );
  }
}
