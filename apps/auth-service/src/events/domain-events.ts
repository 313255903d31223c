import { Injectable } from '@nestjs/common';
import type { DomainEvents as DomainEventCatalogue, DomainEventType } from '@tessera/auth-client';
import { injectTraceContext } from '@tessera/platform';
import type { EntityManager } from 'typeorm';
import { OutboxService } from '../outbox/outbox.service';
import { DomainEventsPublisher } from './domain-events.publisher';

/** The outbox channel of domain events; EventsOutboxHandler delivers it to JetStream. */
export const EVENTS_CHANNEL = 'events';

/** What the outbox keeps for one event until it is published. */
export interface EventsOutboxMessage<T extends DomainEventType = DomainEventType> {
  type: T;
  event: DomainEventCatalogue[T];
  /** W3C trace context of the request that made it, published as message headers. */
  headers: Record<string, string>;
}

/**
 * Records a domain event in the caller's transaction (the transactional outbox): it is published
 * if and only if that transaction commits, after it commits, in commit order. Nothing is
 * recorded when NATS_URL is unset: no broker, no events.
 *
 * @example
 * ```ts
 * await dataSource.transaction(async (manager) => {
 *   await manager.update(User, { id }, { disabledAt: new Date() });
 *   await events.record(manager, 'user.disabled', { user_id: id, disabled_at: now });
 * });
 * ```
 */
@Injectable()
export class DomainEvents {
  constructor(
    private readonly outbox: OutboxService,
    private readonly publisher: DomainEventsPublisher,
  ) {}

  async record<T extends DomainEventType>(
    manager: EntityManager,
    type: T,
    event: DomainEventCatalogue[T],
  ): Promise<void> {
    if (!this.publisher.enabled) return;
    const message: EventsOutboxMessage<T> = { type, event, headers: injectTraceContext() };
    await this.outbox.enqueue(manager, EVENTS_CHANNEL, message);
  }
}
