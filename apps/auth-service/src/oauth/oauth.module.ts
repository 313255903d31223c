import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { ClientsModule } from '../clients/clients.module';
import { ClockModule } from '../clock/clock.module';
import { KeysModule } from '../keys/keys.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { ClientAuthenticator } from './client-authenticator';
import { DiscoveryController } from './discovery.controller';
import { IssuedAccessTokens } from './issued-access-tokens';
import { OAuthController } from './oauth.controller';
import { OAuthTokenService } from './oauth-token.service';
import { TokenInspectionService } from './token-inspection.service';
import { UserInfoController } from './userinfo.controller';

/** The standard surface: token, revocation, introspection, metadata, userinfo. */
@Module({
  imports: [
    AuditModule,
    AuthModule,
    ClientsModule,
    ClockModule,
    KeysModule,
    SessionsModule,
    UsersModule,
  ],
  controllers: [OAuthController, DiscoveryController, UserInfoController],
  providers: [ClientAuthenticator, IssuedAccessTokens, OAuthTokenService, TokenInspectionService],
})
export class OAuthModule {}
