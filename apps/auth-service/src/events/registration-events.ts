import { Injectable } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';
import { UsersService } from '../users/users.service';
import { DomainEvents } from './domain-events';

/**
 * Records `user.registered` in every registration's transaction (a RegistrationStep of
 * UsersService), so that an account that exists is announced and a registration that failed
 * (a taken email, a rolled-back transaction) is not.
 */
@Injectable()
export class RegistrationEvents implements OnModuleInit {
  constructor(
    private readonly users: UsersService,
    private readonly events: DomainEvents,
  ) {}

  onModuleInit(): void {
    this.users.onRegistration((user, manager) =>
      this.events.record(manager, 'user.registered', {
        user_id: user.id,
        registered_at: Math.floor(user.createdAt.getTime() / 1000),
      }),
    );
  }
}
