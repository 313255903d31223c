import { Injectable } from '@nestjs/common';
import { Clock } from '@tessera/auth-token';
import type { Client } from '../clients/client.entity';
import { AuthorizationRepository } from './authorization.repository';

/**
 * What users allowed which client. A first-party client needs no consent; for any other, an
 * allowed scope is remembered per user and client, and only a scope not allowed yet asks again.
 */
@Injectable()
export class ConsentsService {
  constructor(
    private readonly store: AuthorizationRepository,
    private readonly clock: Clock,
  ) {}

  async covers(userId: string, client: Client, scope: string): Promise<boolean> {
    if (client.firstParty) return true;
    const allowed = await this.store.consentedScopes(userId, client.id);
    return scope.split(' ').every((name) => allowed.includes(name));
  }

  grant(userId: string, clientId: string, scope: string): Promise<void> {
    return this.store.grantConsent(userId, clientId, scope.split(' '), this.clock.now());
  }
}
