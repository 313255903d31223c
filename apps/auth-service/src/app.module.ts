import { Module } from '@nestjs/common';
import { ServiceCoreModule } from '@tessera/platform';
import { authServiceConfig } from './config/auth-service.config';
import { entities } from './database/entities';
import { migrations } from './database/migrations';
import { AuthModule } from './auth/auth.module';
import { KeysModule } from './keys/keys.module';
import { OAuthModule } from './oauth/oauth.module';
import { RevocationsModule } from './revocations/revocations.module';
import { UsersModule } from './users/users.module';

@Module({
  imports: [
    ServiceCoreModule.forRoot({
      config: authServiceConfig,
      database: { name: 'auth', dataFolder: 'auth-service', entities, migrations },
    }),
    AuthModule,
    KeysModule,
    OAuthModule,
    RevocationsModule,
    UsersModule,
  ],
})
export class AppModule {}
