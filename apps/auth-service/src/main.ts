// First: tracing patches modules as they load, so it starts before they do (docs/observability.md).
import './tracing';
import { bootstrapService, runServiceCommand } from '@tessera/platform';
import { AppModule } from './app.module';
import { clientsCommand } from './clients/clients.command';
import { authServiceConfig } from './config/auth-service.config';
import { createAdmin } from './users/create-admin.command';

const options = { name: 'auth-service', config: authServiceConfig };
const command = process.argv.slice(2);

// With arguments the bundle runs a one-off command instead of serving HTTP.
void (command.length > 0
  ? runServiceCommand(
      AppModule,
      options,
      { 'create-admin': createAdmin, clients: clientsCommand },
      command,
    )
  : bootstrapService(AppModule, options));
