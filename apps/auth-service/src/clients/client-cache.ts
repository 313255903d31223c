import { Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Client as PgClient } from 'pg';
import type { ClientConfig } from 'pg';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';
import type { Client } from './client.entity';

/** The PostgreSQL channel on which a change to a client is announced; the payload is its id. */
export const CLIENTS_CHANNEL = 'tessera_clients';

/**
 * The longest a cached client is used without being read again: the bound on a change that no
 * notification announced (an UPDATE typed by hand in psql, a notification lost with its
 * connection unnoticed).
 */
export const CLIENT_CACHE_TTL_MS = 10_000;

const RECONNECT_DELAY_MS = 1_000;

/**
 * Announces a change to client `id` to every auth-service instance, this one included: sent in
 * `manager`'s transaction, so PostgreSQL delivers it when the change is committed, never before.
 * Every write to the clients table goes through ClientsService or RegistrySync, and both call it.
 */
export async function announceClientChange(manager: EntityManager, id: string): Promise<void> {
  await manager.query('SELECT pg_notify($1, $2)', [CLIENTS_CHANNEL, id]);
}

/**
 * Clients by id, in memory, so that authenticating a client (every `/oauth/token` request) does
 * not read the database. Kept true by PostgreSQL LISTEN/NOTIFY on a connection of its own: a
 * change anywhere (another instance, the `clients` command) evicts the client on every instance
 * within milliseconds of its commit. The cache is used only while that connection listens: when
 * it drops, the cache empties and every lookup reads the database until it listens again. A read
 * that was under way when a change was announced is not cached, so a stale row can never be
 * put back after its eviction. Entries also expire after CLIENT_CACHE_TTL_MS whatever happens.
 *
 * Only clients that exist are cached (the table's size bounds it); an unknown id reads the
 * database every time, as before, so invented ids cannot fill memory.
 */
@Injectable()
export class ClientCache implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ClientCache.name);
  private readonly entries = new Map<string, { client: Client; loadedAt: number }>();
  /** The connection that listens, once it does. */
  private listener?: PgClient;
  /** The connection being made or in use: events from any older one are ignored. */
  private current?: PgClient;
  /** Bumped by every eviction: a read that began under another generation is not stored. */
  private generation = 0;
  private stopped = false;
  private retry?: NodeJS.Timeout;
  private warned = false;

  constructor(private readonly dataSource: DataSource) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.listen();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const listener = this.current;
    this.listener = this.current = undefined;
    await listener?.end().catch(() => undefined);
  }

  /** Whether changes are being heard, and so whether anything is cached. */
  get listening(): boolean {
    return this.listener !== undefined;
  }

  /** The cached client, if it is still fresh. */
  get(id: string): Client | undefined {
    const entry = this.entries.get(id);
    if (entry && Date.now() - entry.loadedAt < CLIENT_CACHE_TTL_MS) return entry.client;
    if (entry) this.entries.delete(id);
    return undefined;
  }

  /** Taken before a database read; `store` uses it to refuse a read that a change overtook. */
  ticket(): number {
    return this.generation;
  }

  /** Caches a client read from the database, frozen so no caller can change the shared copy. */
  store(client: Client, ticket: number): void {
    if (!this.listener || ticket !== this.generation) return;
    for (const value of Object.values(client)) if (Array.isArray(value)) Object.freeze(value);
    this.entries.set(client.id, { client: Object.freeze(client), loadedAt: Date.now() });
  }

  /** Forgets a client (or every client), and any read of it still under way. */
  evict(id?: string): void {
    this.generation += 1;
    if (id === undefined) this.entries.clear();
    else this.entries.delete(id);
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    // The pool's own settings (host, credentials, TLS), on a connection outside the pool.
    const options = (this.dataSource.driver as unknown as { master: { options: ClientConfig } })
      .master.options;
    const listener = new PgClient({ ...options, keepAlive: true });
    this.current = listener;
    listener.on('notification', ({ payload }) => this.evict(payload || undefined));
    listener.on('error', (error) => this.drop(listener, error));
    listener.on('end', () => this.drop(listener));
    try {
      await listener.connect();
      await listener.query(`LISTEN ${CLIENTS_CHANNEL}`);
    } catch (error) {
      this.drop(listener, error);
      return;
    }
    // Stopped, or dropped (and already retrying) while it connected.
    if (listener !== this.current) {
      await listener.end().catch(() => undefined);
      return;
    }
    // Anything read before now may predate a change announced before we listened.
    this.evict();
    this.listener = listener;
    if (this.warned) this.logger.log('Listening for client changes again; caching clients');
    this.warned = false;
  }

  private drop(listener: PgClient, error?: unknown): void {
    if (listener !== this.current) return;
    this.listener = this.current = undefined;
    this.evict();
    listener.end().catch(() => undefined);
    if (this.stopped) return;
    if (!this.warned) {
      this.logger.warn(
        `Not listening for client changes (${error instanceof Error ? error.message : 'connection lost'}); ` +
          'reading clients from the database until it is back',
      );
      this.warned = true;
    }
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.listen();
    }, RECONNECT_DELAY_MS);
    this.retry.unref();
  }
}
