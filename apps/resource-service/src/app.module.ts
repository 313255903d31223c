import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { AuthModule, authOptionsFromEnvironment } from '@tessera/auth-resource-server';
import { EVENTS_STREAM, EVENTS_SUBJECT_PREFIX, ensureEventsStream } from '@tessera/auth-client';
import {
  createJetStreamEventServer,
  MESSAGE_TRANSPORTS,
  ServiceCoreModule,
} from '@tessera/platform';
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
      // As a client of auth-service (with AUTH_CLIENT_SECRET) it follows the revocation log, so a
      // revoked session's tokens are refused within about a second, and asks whether a token is
      // still active before DELETE /notes.
      useFactory: (environment: ConfigType<typeof resourceServiceConfig>) =>
        authOptionsFromEnvironment(environment, {
          clientScope: 'tokens:introspect revocations:read',
        }),
    }),
    NotesModule,
  ],
  controllers: [MeController, PingController],
  providers: [
    {
      // With NATS_URL: auth-service's domain events reach @EventPattern handlers (notes), through
      // this service's durable consumer, guarded by the same global guard as the routes.
      provide: MESSAGE_TRANSPORTS,
      inject: [resourceServiceConfig.KEY],
      useFactory: (environment: ConfigType<typeof resourceServiceConfig>) =>
        environment.NATS_URL === undefined
          ? []
          : [
              createJetStreamEventServer({
                servers: environment.NATS_URL,
                stream: EVENTS_STREAM,
                subjectPrefix: EVENTS_SUBJECT_PREFIX,
                durable: environment.AUTH_AUDIENCE,
                ensureStream: ensureEventsStream,
              }),
            ],
    },
  ],
})
export class AppModule {}
