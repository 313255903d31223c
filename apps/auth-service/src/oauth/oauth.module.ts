import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { AuthorizationModule } from '../authorization/authorization.module';
import { ClientsModule } from '../clients/clients.module';
import { ClockModule } from '../clock/clock.module';
import { KeysModule } from '../keys/keys.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AuthorizationCodeGrant } from './authorization-code-grant';
import { ClientAuthenticator } from './client-authenticator';
import { DiscoveryController } from './discovery.controller';
import { IssuedAccessTokens } from './issued-access-tokens';
import { OAuthController } from './oauth.controller';
import { OAuthTokenService } from './oauth-token.service';
import { TokenInspectionService } from './token-inspection.service';
import { UserInfoController } from './userinfo.controller';

/**
 * The standard surface: token (with the authorization-code grant), revocation, introspection,
 * metadata, userinfo.
 */
@Module({
  imports: [
    AuditModule,
    AuthModule,
    AuthorizationModule,
    ClientsModule,
    ClockModule,
    KeysModule,
    SessionsModule,
    UsersModule,
  ],
  controllers: [OAuthController, DiscoveryController, UserInfoController],
  providers: [
    AuthorizationCodeGrant,
    ClientAuthenticator,
    IssuedAccessTokens,
    OAuthTokenService,
    TokenInspectionService,
  ],
})
export class OAuthModule {}
