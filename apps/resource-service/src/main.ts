// First: tracing patches modules as they load, so it starts before they do (docs/observability.md).
import './tracing';
import { bootstrapService, runServiceCommand } from '@tessera/platform';
import { AppModule } from './app.module';
import { resourceServiceConfig } from './config/resource-service.config';

const options = { name: 'resource-service', config: resourceServiceConfig };
const command = process.argv.slice(2);

// With arguments the bundle runs a one-off command (the platform's `migrate`) instead of serving HTTP.
void (command.length > 0
  ? runServiceCommand(AppModule, options, {}, command)
  : bootstrapService(AppModule, options));
