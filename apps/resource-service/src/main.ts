import { bootstrapService } from '@tessera/platform';
import { AppModule } from './app.module';
import { resourceServiceConfig } from './config/resource-service.config';

void bootstrapService(AppModule, { name: 'resource-service', config: resourceServiceConfig });
