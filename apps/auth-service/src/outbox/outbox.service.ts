import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { OutboxMessage } from './outbox-message.entity';

/** What a channel name may be (the table's check): lower-case, dots, dashes, underscores. */
export const OUTBOX_CHANNEL_PATTERN = /^[a-z][a-z0-9._-]{0,63}$/;

/**
 * Writes messages to the transactional outbox. A message enqueued with a transaction's manager is
 * delivered if and only if that transaction commits, after it commits, and, within its channel,
 * in commit order (OutboxDispatcher).
 *
 * @example
 * ```ts
 * await dataSource.transaction(async (manager) => {
 *   const user = await manager.save(User, { email, passwordHash });
 *   await outbox.enqueue(manager, 'mail', { to: user.email, template: 'verify-email', … });
 * });
 * ```
 */
@Injectable()
export class OutboxService {
  /**
   * @param manager the caller's transaction (`dataSource.transaction(manager => …)`); outside one
   *   the message stands alone, committed at once
   * @param payload plain JSON; stored until delivered, so never a password or a long-lived secret
   * @returns the message's id, which its handler sees as `delivery.id`
   */
  async enqueue(manager: EntityManager, channel: string, payload: object): Promise<string> {
    if (!OUTBOX_CHANNEL_PATTERN.test(channel)) {
      throw new Error(`Outbox channel names match ${OUTBOX_CHANNEL_PATTERN}: ${channel}`);
    }
    const result = await manager.insert(OutboxMessage, { channel, payload });
    return String((result.identifiers[0] as { id: string }).id);
  }
}
