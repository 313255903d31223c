import { Module } from '@nestjs/common';
import { RevocationsModule } from '../revocations/revocations.module';
import { UsersModule } from '../users/users.module';
import { DomainEventsModule } from './domain-events.module';
import { RegistrationEvents } from './registration-events';
import { RevocationEventsRelay } from './revocation-events.relay';

/**
 * auth-service's domain events on NATS JetStream (docs/events.md), when NATS_URL is set: those the
 * features record through the outbox (DomainEventsModule; `user.registered` by RegistrationEvents),
 * and `session.revoked`, which the relay publishes from the revocation log.
 */
@Module({
  imports: [DomainEventsModule, RevocationsModule, UsersModule],
  providers: [RegistrationEvents, RevocationEventsRelay],
})
export class EventsModule {}
