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
      useFactory: (environment: ConfigType<typeof resourceServiceConfig>) => ({
        issuer: environment.AUTH_ISSUER,
        audience: environment.AUTH_AUDIENCE,
        jwksUri: environment.AUTH_JWKS_URI,
        clockTolerance: environment.AUTH_CLOCK_TOLERANCE,
      }),
    }),
    NotesModule,
  ],
  controllers: [MeController, PingController],
})
export class AppModule {}
