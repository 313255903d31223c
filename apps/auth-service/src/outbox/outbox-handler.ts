import { DiscoveryService } from '@nestjs/core';

/** What a handler is told about the message it delivers, besides the payload. */
export interface OutboxDelivery {
  /** The row id: stable across retries, for deduplication downstream (e.g. a NATS message id). */
  id: string;
  /** The commit-order position within the outbox. */
  position: string;
  channel: string;
  /** 1 on the first attempt. */
  attempt: number;
  createdAt: Date;
}

/**
 * Delivers the messages of one channel. Resolving means delivered (the message is deleted);
 * throwing means try again later, with backoff; throwing OutboxPermanentFailure means never
 * (the message is kept as failed and the channel moves on).
 */
export interface OutboxHandler<TPayload = unknown> {
  deliver(payload: TPayload, delivery: OutboxDelivery): Promise<void>;
}

/**
 * Registers a provider as the handler of an outbox channel; OutboxDispatcher finds it through
 * Nest's DiscoveryService. One handler per channel. The provider must also be listed in its
 * module's `providers`, like any other.
 *
 * @example
 * ```ts
 * @OutboxChannel('mail')
 * @Injectable()
 * export class MailSender implements OutboxHandler<MailMessage> {
 *   async deliver(message: MailMessage) { await this.transport.sendMail(message); }
 * }
 * ```
 */
export const OutboxChannel = DiscoveryService.createDecorator<string>();

/** Thrown by a handler for a message that can never be delivered: it is not retried. */
export class OutboxPermanentFailure extends Error {
  override readonly name = 'OutboxPermanentFailure';
}
