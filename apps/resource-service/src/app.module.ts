import { Module } from '@nestjs/common';
import { ServiceCoreModule } from '@tessera/platform';
import { resourceServiceConfig } from './config/resource-service.config';
import { entities } from './database/entities';
import { migrations } from './database/migrations';

@Module({
  imports: [
    ServiceCoreModule.forRoot({
      config: resourceServiceConfig,
      database: { name: 'resource', dataFolder: 'resource-service', entities, migrations },
    }),
  ],
})
export class AppModule {}
