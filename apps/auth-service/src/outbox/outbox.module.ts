import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxDispatcher } from './outbox-dispatcher.service';
import { OutboxMessage } from './outbox-message.entity';
import { OutboxService } from './outbox.service';
import { OutboxMetrics } from './outbox.metrics';

/**
 * The transactional outbox: OutboxService.enqueue in a feature's transaction, and one
 * OutboxDispatcher that delivers to every `@OutboxChannel()` provider of the application.
 * Import it where messages are enqueued or handled.
 */
@Module({
  imports: [DiscoveryModule, TypeOrmModule.forFeature([OutboxMessage])],
  providers: [OutboxService, OutboxDispatcher, OutboxMetrics],
  exports: [OutboxService, OutboxDispatcher],
})
export class OutboxModule {}
