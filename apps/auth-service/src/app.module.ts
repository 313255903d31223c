import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { AuthModule as GuardModule } from '@tessera/auth-resource-server';
import { ServiceCoreModule } from '@tessera/platform';
import { authServiceConfig } from './config/auth-service.config';
import { authDatabase } from './database/database';
import { AccountModule } from './account/account.module';
import { AuthModule } from './auth/auth.module';
import { AUTH_SERVICE_AUDIENCE } from './clients/registry';
import { ClockModule } from './clock/clock.module';
import { EventsModule } from './events/events.module';
import { KeysModule } from './keys/keys.module';
import { KeysService } from './keys/keys.service';
import { OAuthModule } from './oauth/oauth.module';
import { PagesModule } from './pages/pages.module';
import { RevocationsModule } from './revocations/revocations.module';
import { SessionsModule } from './sessions/sessions.module';
import { SessionsService } from './sessions/sessions.service';
import { UsersModule } from './users/users.module';

@Module({
  imports: [
    ServiceCoreModule.forRoot({
      config: authServiceConfig,
      database: authDatabase,
    }),
    // The same global guard as every resource service: every route below needs an access token
    // for auth-service unless marked @Public(). It verifies with this service's own keys (no JWKS
    // fetch), and a user token's session must still be live in the database.
    GuardModule.forRootAsync({
      imports: [ClockModule, KeysModule, SessionsModule],
      inject: [authServiceConfig.KEY, KeysService, SessionsService],
      useFactory: (
        environment: ConfigType<typeof authServiceConfig>,
        keys: KeysService,
        sessions: SessionsService,
      ) => ({
        issuer: environment.ISSUER,
        audience: AUTH_SERVICE_AUDIENCE,
        keys,
        isSessionActive: async (principal) => {
          const session = principal.sessionId && (await sessions.findActive(principal.sessionId));
          return !!session && session.userId === principal.subject;
        },
      }),
    }),
    AccountModule,
    AuthModule,
    EventsModule,
    KeysModule,
    OAuthModule,
    PagesModule,
    RevocationsModule,
    UsersModule,
  ],
})
export class AppModule {}
