import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One message of the transactional outbox (CreateOutbox1763798401100): written by
 * OutboxService.enqueue in the transaction of the change it announces, delivered by the
 * OutboxDispatcher once that commits, then deleted.
 */
@Entity({ name: 'outbox_messages' })
export class OutboxMessage {
  /** Handed out at insert: identifies the row, says nothing about commit order. */
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  /** Handed out as the row's transaction commits, in commit order: the delivery order. */
  @Column({ type: 'bigint', nullable: true })
  position!: string | null;

  @Column({ type: 'text' })
  channel!: string;

  @Column({ type: 'jsonb' })
  payload!: object;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** Deliveries begun so far, the one under way included. */
  @Column({ type: 'int', default: 0 })
  attempts!: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz' })
  nextAttemptAt!: Date;

  /** Held by an instance delivering it until then. */
  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true })
  leaseUntil!: Date | null;

  /** Why the last attempt failed (the handler's error message; never the payload). */
  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** Set when a handler said it can never be delivered; the channel then moves past it. */
  @Column({ name: 'failed_at', type: 'timestamptz', nullable: true })
  failedAt!: Date | null;
}
