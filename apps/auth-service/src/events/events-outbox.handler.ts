import { Injectable } from '@nestjs/common';
import { OutboxChannel, OutboxPermanentFailure } from '../outbox/outbox-handler';
import type { OutboxDelivery, OutboxHandler } from '../outbox/outbox-handler';
import { EVENTS_CHANNEL } from './domain-events';
import type { EventsOutboxMessage } from './domain-events';
import { DomainEventsPublisher } from './domain-events.publisher';

/**
 * Delivers the outbox's `events` channel to JetStream, one event at a time in commit order. The
 * Nats-Msg-Id is the outbox row's id, the same on every retry, so an event whose
 * acknowledgement was lost (the broker stored it, then the connection dropped) is stored once.
 * While the broker is down the outbox keeps the events and retries with back-off.
 */
@OutboxChannel(EVENTS_CHANNEL)
@Injectable()
export class EventsOutboxHandler implements OutboxHandler<EventsOutboxMessage> {
  constructor(private readonly publisher: DomainEventsPublisher) {}

  async deliver(message: EventsOutboxMessage, delivery: OutboxDelivery): Promise<void> {
    if (!this.publisher.enabled) {
      // Recorded while NATS_URL was set, and it is not any more: there is nowhere to send it.
      throw new OutboxPermanentFailure('NATS_URL is not set');
    }
    await this.publisher.publish(message.type, message.event, {
      id: `outbox-${delivery.id}`,
      headers: message.headers,
    });
  }
}
