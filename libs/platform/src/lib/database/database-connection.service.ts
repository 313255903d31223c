import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { SERVICE_ENVIRONMENT } from '../config/service-config';
import type { ServiceEnvironment } from '../config/service-environment';
import { DATABASE_OPTIONS, SHARE_RUNNING_DATABASE } from './database.tokens';
import type { DatabaseOptions } from './database.options';
import { actingAs, databaseRoles, provisionServiceDatabase } from './database-roles';
import { EmbeddedPostgresCluster } from './embedded-postgres-cluster';
import { findRunningEmbeddedPostgres } from './running-embedded-postgres';

/** Where the service's pool connects, and where its migrations run when that is another role. */
export interface DatabaseConnection {
  url: string;
  migration?: {
    url: string;
    /** The role of `url`, which gets the service's privileges once the migrations have run. */
    serviceRole: string;
  };
}

/**
 * Knows where the service's database is: DATABASE_URL (and DATABASE_MIGRATION_URL) when set,
 * otherwise an embedded PostgreSQL that it starts under DATA_DIR/<dataFolder> and stops on
 * shutdown, with the database's owner and service roles (database-roles.ts): migrations run as
 * the owner, the pool logs in as the service role with a password made new at every start. When
 * that PostgreSQL is already running (the service runs, and this is a command such as
 * `create-admin`), a command uses it and leaves it running; a second service on the same data is
 * refused with a reason.
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

  async resolve(): Promise<DatabaseConnection> {
    const { DATABASE_URL, DATABASE_MIGRATION_URL } = this.environment;
    if (DATABASE_URL) {
      if (!DATABASE_MIGRATION_URL) return { url: DATABASE_URL };
      const serviceRole = decodeURIComponent(new URL(DATABASE_URL).username);
      if (!serviceRole) {
        throw new Error(
          "DATABASE_URL must name its user when DATABASE_MIGRATION_URL is set: that role gets the service's privileges",
        );
      }
      return { url: DATABASE_URL, migration: { url: DATABASE_MIGRATION_URL, serviceRole } };
    }
    if (DATABASE_MIGRATION_URL) {
      throw new Error(
        'DATABASE_MIGRATION_URL is set but DATABASE_URL is not: set both, or neither',
      );
    }
    const directory = join(this.environment.DATA_DIR, this.options.dataFolder);
    const roles = databaseRoles(this.options.name);
    const running = await findRunningEmbeddedPostgres(directory);
    if (running && this.shareRunning) {
      this.logger.log(`Using the embedded PostgreSQL already running in ${directory}`);
      // A one-off command of the operator: the superuser's login, acting as each role.
      const url = running.url(this.options.name);
      return {
        url: actingAs(url, roles.service),
        migration: { url: actingAs(url, roles.owner), serviceRole: roles.service },
      };
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
    const { url, migrationUrl } = await provisionServiceDatabase(
      this.cluster.url('postgres'),
      this.options.name,
      randomBytes(24).toString('base64url'),
    );
    return { url, migration: { url: migrationUrl, serviceRole: roles.service } };
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
