import { Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module';
import { DomainEvents } from './domain-events';
import { DomainEventsPublisher } from './domain-events.publisher';
import { EventsOutboxHandler } from './events-outbox.handler';

/**
 * Domain events through the transactional outbox (docs/events.md): `DomainEvents.record` in a
 * feature's transaction, and the outbox's `events` channel published to JetStream. Imported by
 * the features that record events (users, keys); a no-op without NATS_URL.
 */
@Module({
  imports: [OutboxModule],
  providers: [DomainEvents, DomainEventsPublisher, EventsOutboxHandler],
  exports: [DomainEvents, DomainEventsPublisher],
})
export class DomainEventsModule {}
