import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { SERVICE_ENVIRONMENT } from '../config/service-config';
import type { ServiceEnvironment } from '../config/service-environment';
import { DATABASE_OPTIONS, SHARE_RUNNING_DATABASE } from './database.tokens';
import type { DatabaseOptions } from './database.options';
import { EmbeddedPostgresCluster } from './embedded-postgres-cluster';
import { findRunningEmbeddedPostgres } from './running-embedded-postgres';

/**
 * Knows where the service's database is: DATABASE_URL when set, otherwise an embedded PostgreSQL
 * that it starts under DATA_DIR/<dataFolder> and stops on shutdown. When that PostgreSQL is
 * already running (the service runs, and this is a command such as `create-admin`), a command
 * uses it and leaves it running; a second service on the same data is refused with a reason.
 */
@Injectable()
export class DatabaseConnectionService implements OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseConnectionService.name);
  private cluster?: EmbeddedPostgresCluster;

  constructor(
    @Inject(SERVICE_ENVIRONMENT) private readonly environment: ServiceEnvironment,
    @Inject(DATABASE_OPTIONS) private readonly options: DatabaseOptions,
    private readonly moduleRef: ModuleRef,
    @Optional() @Inject(SHARE_RUNNING_DATABASE) private readonly shareRunning = false,
  ) {}

  async resolveUrl(): Promise<string> {
    if (this.environment.DATABASE_URL) return this.environment.DATABASE_URL;
    const directory = join(this.environment.DATA_DIR, this.options.dataFolder);
    const running = await findRunningEmbeddedPostgres(directory);
    if (running && this.shareRunning) {
      this.logger.log(`Using the embedded PostgreSQL already running in ${directory}`);
      return running.url(this.options.name);
    }
    if (running) {
      throw new Error(
        `the embedded PostgreSQL in ${directory} is already running (PID ${running.pid}): is ` +
          'this service already running? Stop it first, or give this one another DATA_DIR',
      );
    }
    this.logger.log(`DATABASE_URL is not set: starting an embedded PostgreSQL in ${directory}`);
    this.cluster = new EmbeddedPostgresCluster({ directory });
    try {
      await this.cluster.start();
    } catch (error) {
      this.cluster = undefined;
      // embedded-postgres rejects with nothing when the server exits while starting.
      if (error instanceof Error) throw error;
      throw new Error(
        `the embedded PostgreSQL in ${directory} stopped while starting ` +
          '(LOG_LEVEL=trace shows its own lines)',
      );
    }
    return this.cluster.ensureDatabase(this.options.name);
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.cluster) return;
    // Close the pool before the server goes, whichever module Nest shuts down first.
    const dataSource = this.moduleRef.get(DataSource, { strict: false });
    if (dataSource.isInitialized) await dataSource.destroy();
    await this.cluster.stop();
    this.cluster = undefined;
  }
}
