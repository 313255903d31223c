import { Controller, Inject, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
// The decorators alone: the transports' code loads only when NATS_URL is set.
import { EventPattern, Payload } from '@nestjs/microservices/decorators';
import type { DomainEvents } from '@tessera/auth-client';
import { Public } from '@tessera/auth-token';
import { resourceServiceConfig } from '../config/resource-service.config';
import { NotesService } from './notes.service';

const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What notes do when auth-service's domain events arrive (with NATS_URL set; docs/events.md):
 * a disabled account's notes are hidden. The events come from the stream's durable consumer
 * `resource-service`, in order, each acknowledged once handled: a restart resumes after the last.
 *
 * `@Public()`: a domain event carries no bearer token, since one would have expired before a
 * consumer that was away replays it. Who may publish on `tessera.events.>` is the broker's to
 * decide (NATS permissions, docs/events.md), as who may write the database is PostgreSQL's.
 */
@Controller()
export class UserEventsController {
  private readonly logger = new Logger(UserEventsController.name);

  constructor(
    private readonly notes: NotesService,
    @Inject(resourceServiceConfig.KEY)
    private readonly environment: ConfigType<typeof resourceServiceConfig>,
  ) {}

  @Public()
  @EventPattern('user.disabled')
  async userDisabled(@Payload() event: DomainEvents['user.disabled']): Promise<void> {
    if (typeof event?.user_id !== 'string' || !USER_ID.test(event.user_id)) {
      // Handled as done: delivering it again would not make it readable.
      this.logger.warn('A user.disabled event without a user id was skipped');
      return;
    }
    const hidden = await this.notes.hideAllOf({
      ownerIssuer: this.environment.AUTH_ISSUER,
      ownerSubject: event.user_id,
    });
    this.logger.log(`User ${event.user_id} was disabled: ${hidden} notes hidden`);
  }
}
