import { bootstrapService } from '@tessera/platform';
import { AppModule } from './app.module';
import { authServiceConfig } from './config/auth-service.config';

void bootstrapService(AppModule, { name: 'auth-service', config: authServiceConfig });
