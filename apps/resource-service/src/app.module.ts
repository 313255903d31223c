import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { AuthModule } from '@tessera/auth';
import { ServiceCoreModule } from '@tessera/platform';
import { resourceServiceConfig } from './config/resource-service.config';
import { entities } from './database/entities';
import { migrations } from './database/migrations';
import { MeController } from './me/me.controller';
import { NotesModule } from './notes/notes.module';
import { PingController } from './ping/ping.controller';

@Module({
  imports: [
    ServiceCoreModule.forRoot({
      config: resourceServiceConfig,
      database: { name: 'resource', dataFolder: 'resource-service', entities, migrations },
    }),
    // Every route below needs a valid access token for this service unless marked @Public().
    AuthModule.forRootAsync({
      inject: [resourceServiceConfig.KEY],
      useFactory: (environment: ConfigType<typeof resourceServiceConfig>) => {
        const authService = environment.AUTH_SERVICE_URL ?? environment.AUTH_ISSUER;
        return {
          issuer: environment.AUTH_ISSUER,
          audience: environment.AUTH_AUDIENCE,
          jwksUri: `${authService}/.well-known/jwks.json`,
          clockTolerance: environment.AUTH_CLOCK_TOLERANCE,
          // This service as a client of auth-service: it follows the revocation log (so a revoked
          // session's tokens are refused within about a second) and asks whether a token is
          // still active before DELETE /notes.
          ...(environment.AUTH_CLIENT_SECRET && {
            client: {
              id: environment.AUTH_CLIENT_ID,
              secret: environment.AUTH_CLIENT_SECRET,
              tokenUri: `${authService}/oauth/token`,
              scope: 'tokens:introspect revocations:read',
              audience: 'auth-service',
            },
            revocationsUri: `${authService}/revocations`,
          }),
        };
      },
    }),
    NotesModule,
  ],
  controllers: [MeController, PingController],
})
export class AppModule {}
