import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ClientsModule } from '../clients/clients.module';
import { ClockModule } from '../clock/clock.module';
import { KeysModule } from '../keys/keys.module';
import { MfaModule } from '../mfa/mfa.module';
import { SessionsModule } from '../sessions/sessions.module';
import { AuthorizationRepository } from './authorization.repository';
import { AuthorizationService } from './authorization.service';
import { BrowserSessionsService } from './browser-sessions.service';
import { ConsentsService } from './consents.service';
import { EndSessionService } from './end-session.service';

/**
 * The authorization-code flow's state: authorization requests and codes, consents, browser
 * sessions and RP-initiated logout. No HTTP here: the hosted pages (pages/) and the token
 * endpoint (oauth/) speak it.
 */
@Module({
  imports: [AuditModule, ClientsModule, ClockModule, KeysModule, MfaModule, SessionsModule],
  providers: [
    AuthorizationRepository,
    AuthorizationService,
    BrowserSessionsService,
    ConsentsService,
    EndSessionService,
  ],
  exports: [
    AuthorizationRepository,
    AuthorizationService,
    BrowserSessionsService,
    ConsentsService,
    EndSessionService,
  ],
})
export class AuthorizationModule {}
