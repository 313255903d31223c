import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { Client } from './client.entity';
import { ClientCache } from './client-cache';
import { ClientsService } from './clients.service';
import { Registry } from './registry';
import { RegistrySync } from './registry-sync.service';

/**
 * The OAuth clients, and the registry (apps/auth-service/registry.json) of the audiences and
 * clients auth-service knows: validated when the module is made (a bad registry stops start-up)
 * and applied to the clients table before CLIENT_SECRETS are set. Exports ClientsService and
 * Registry (the registered audiences). Clients are cached in memory by ClientCache, which
 * PostgreSQL's LISTEN/NOTIFY keeps true across instances.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Client]), AuditModule],
  providers: [
    ClientCache,
    ClientsService,
    { provide: Registry, useFactory: () => Registry.load() },
    RegistrySync,
  ],
  exports: [ClientsService, Registry],
})
export class ClientsModule {}
