import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { SERVICE_ENVIRONMENT } from '../config/service-config';
import type { ServiceEnvironment } from '../config/service-environment';
import { DATABASE_OPTIONS } from './database.tokens';
import type { DatabaseOptions } from './database.options';
import { EmbeddedPostgresCluster } from './embedded-postgres-cluster';

/**
 * Knows where the service's database is: DATABASE_URL when set, otherwise an embedded PostgreSQL
 * that it starts under DATA_DIR/<dataFolder> and stops on shutdown.
 */
@Injectable()
export class DatabaseConnectionService implements OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseConnectionService.name);
  private cluster?: EmbeddedPostgresCluster;

  constructor(
    @Inject(SERVICE_ENVIRONMENT) private readonly environment: ServiceEnvironment,
    @Inject(DATABASE_OPTIONS) private readonly options: DatabaseOptions,
    private readonly moduleRef: ModuleRef,
  ) {}

  async resolveUrl(): Promise<string> {
    if (this.environment.DATABASE_URL) return this.environment.DATABASE_URL;
    const directory = join(this.environment.DATA_DIR, this.options.dataFolder);
    this.logger.log(`DATABASE_URL is not set: starting an embedded PostgreSQL in ${directory}`);
    this.cluster = new EmbeddedPostgresCluster({ directory });
    await this.cluster.start();
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
