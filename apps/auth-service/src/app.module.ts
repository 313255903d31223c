import { Module } from '@nestjs/common';
import { ServiceCoreModule } from '@tessera/platform';
import { authServiceConfig } from './config/auth-service.config';
import { entities } from './database/entities';
import { migrations } from './database/migrations';

@Module({
  imports: [
    ServiceCoreModule.forRoot({
      config: authServiceConfig,
      database: { name: 'auth', dataFolder: 'auth-service', entities, migrations },
    }),
  ],
})
export class AppModule {}
