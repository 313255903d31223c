import { Global, Module } from '@nestjs/common';
import type { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EnvironmentValidationError } from '../config/environment-validation.error';
import { SHARE_RUNNING_DATABASE } from '../database/database.tokens';
import { migrateCommand } from '../database/migrate.command';
import { MetricsModule } from '../metrics/metrics.module';
import type { BootstrapOptions } from './bootstrap-service';

/** A one-off task run with the service's modules, e.g. `create-admin`; returns what to print. */
export type ServiceCommand = (app: INestApplicationContext, args: string[]) => Promise<string>;

/** Commands every service has: `migrate` (the deploy job's one-off migration run). */
const PLATFORM_COMMANDS: Record<string, ServiceCommand> = { migrate: migrateCommand };

/**
 * Runs `argv[0]` from `commands` (and the platform's own: `migrate`) inside the service's
 * application context (its configuration, database and providers, no HTTP server), prints the
 * result and exits: 0 when it worked, 1 when it failed, 2 for an unknown command. The built bundle serves as its own CLI:
 * `node dist/apps/auth-service/main.js create-admin ada@example.com`. While the service runs
 * (`npm start`, `npm run dev`) a command uses the embedded PostgreSQL it started.
 */
export async function runServiceCommand(
  appModule: Type<unknown>,
  options: BootstrapOptions,
  commands: Record<string, ServiceCommand>,
  [name = '', ...args]: string[],
): Promise<never> {
  // The service's own first; a command of its own by the same name wins.
  const known = { ...commands };
  for (const [platformName, platformCommand] of Object.entries(PLATFORM_COMMANDS)) {
    known[platformName] ??= platformCommand;
  }
  const command = known[name];
  if (!command) {
    process.stderr.write(
      `${options.name}: unknown command "${name}". Commands: ${Object.keys(known).join(', ')}\n`,
    );
    process.exit(2);
  }
  let app: INestApplicationContext | undefined;
  try {
    options.config();
    // The features count what they do (tokens issued, sessions ended) wherever they run; a command
    // has no listener to show it, and its lines stay plain text for the terminal.
    @Global()
    @Module({
      providers: [{ provide: SHARE_RUNNING_DATABASE, useValue: true }],
      exports: [SHARE_RUNNING_DATABASE],
    })
    class SharedDatabaseModule {}
    @Module({ imports: [SharedDatabaseModule, MetricsModule, appModule] })
    class CommandModule {}
    app = await NestFactory.createApplicationContext(CommandModule, {
      abortOnError: false,
      logger: ['fatal', 'error', 'warn'],
    });
    process.stdout.write(`${await command(app, args)}\n`);
    await app.close();
    process.exit(0);
  } catch (error) {
    const message =
      error instanceof EnvironmentValidationError || error instanceof Error
        ? error.message
        : String(error);
    process.stderr.write(`${options.name} ${name}: ${message}\n`);
    await app?.close().catch(() => undefined);
    process.exit(1);
  }
}
