import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ensureEventsStream, eventSubject } from '@tessera/auth-client';
import type { DomainEvents, DomainEventType } from '@tessera/auth-client';
import type * as Nats from 'nats';
import type { NatsConnection } from 'nats';
import { authServiceConfig } from '../config/auth-service.config';

/** How long one publication may wait for the broker before it counts as failed (and is retried). */
const PUBLISH_TIMEOUT_MS = 5000;

export interface PublishOptions {
  /** The Nats-Msg-Id: the same id published twice within the stream's window is stored once. */
  id: string;
  /** Extra message headers (W3C trace context). */
  headers?: Readonly<Record<string, string>>;
}

/**
 * Publishes auth-service's domain events to the JetStream stream TESSERA_EVENTS when NATS_URL is
 * set (docs/events.md), each with a Nats-Msg-Id, so that a retry after a lost acknowledgement is
 * stored once. Resolves once JetStream has stored the event; rejects otherwise, and the caller
 * (the outbox's `events` channel, the revocation relay) tries again. The connection is made on
 * first use and kept; nats reconnects it by itself.
 */
@Injectable()
export class DomainEventsPublisher implements OnApplicationShutdown {
  private readonly logger = new Logger(DomainEventsPublisher.name);
  private connecting?: Promise<NatsConnection>;

  constructor(
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  /** Whether events are published at all: NATS_URL is set. */
  get enabled(): boolean {
    return this.environment.NATS_URL !== undefined;
  }

  async publish<T extends DomainEventType>(
    type: T,
    event: DomainEvents[T],
    options: PublishOptions,
  ): Promise<void> {
    const connection = await this.connection();
    const messageHeaders = nats().headers();
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      messageHeaders.set(name, value);
    }
    await connection.jetstream().publish(eventSubject(type), JSON.stringify(event), {
      msgID: options.id,
      headers: messageHeaders,
      timeout: PUBLISH_TIMEOUT_MS,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    const connecting = this.connecting;
    this.connecting = undefined;
    const connection = await connecting?.catch(() => undefined);
    await connection?.drain().catch(() => undefined);
  }

  private connection(): Promise<NatsConnection> {
    const servers = this.environment.NATS_URL;
    if (servers === undefined) return Promise.reject(new Error('NATS_URL is not set'));
    this.connecting ??= (async () => {
      const connection = await nats().connect({
        servers: servers.split(','),
        name: 'auth-service',
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
      });
      await ensureEventsStream(await connection.jetstreamManager());
      this.logger.log('Publishing domain events to NATS JetStream');
      return connection;
    })();
    // A failed first connection is forgotten, so the next publication tries again.
    this.connecting.catch(() => (this.connecting = undefined));
    return this.connecting;
  }
}

/** The NATS client, loaded on first use: with NATS_URL unset auth-service never loads it. */
function nats(): typeof Nats {
  return require('nats') as typeof Nats;
}
