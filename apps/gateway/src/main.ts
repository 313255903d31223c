// First: tracing patches modules as they load, so it starts before they do (docs/observability.md).
import './tracing';
import { bootstrapService } from '@tessera/platform';
import { AppModule } from './app.module';
import { gatewayConfig } from './config/gateway.config';

void bootstrapService(AppModule, { name: 'gateway', config: gatewayConfig });
