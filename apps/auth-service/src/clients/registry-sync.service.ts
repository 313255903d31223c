import { Injectable, Logger } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Client } from './client.entity';
import { announceClientChange } from './client-cache';
import { Registry, REGISTRY_FILE } from './registry';
import type { RegisteredClient } from './registry';

/** The columns the registry owns; never the secret, never the creation time. */
const OWNED = [
  'type',
  'grantTypes',
  'scopes',
  'audiences',
  'defaultAudiences',
  'redirectUris',
  'postLogoutRedirectUris',
  'firstParty',
] as const;
type Owned = (typeof OWNED)[number];

/** Any fixed number: the key of the advisory lock that serialises instances starting together. */
const REGISTRY_LOCK = 7_115_227;

/** What one application of the registry changed: client ids. */
export interface RegistryChanges {
  registered: string[];
  updated: string[];
}

/**
 * Applies the registry's clients to the clients table at start-up, before CLIENT_SECRETS are set
 * (onModuleInit runs before any onApplicationBootstrap): a missing client is inserted, one that
 * differs is brought to what the registry says, each change audited in the same transaction.
 * A client the registry does not list (made with the `clients` command) is never read or
 * written, and nothing is ever deleted. Applying the same registry again changes nothing.
 */
@Injectable()
export class RegistrySync implements OnModuleInit {
  private readonly logger = new Logger(RegistrySync.name);

  constructor(
    private readonly registry: Registry,
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async onModuleInit(): Promise<void> {
    const { registered, updated } = await this.apply(this.registry);
    if (registered.length > 0 || updated.length > 0) {
      this.logger.log(
        `${REGISTRY_FILE} applied: registered ${registered.join(', ') || 'none'}; updated ${updated.join(', ') || 'none'}`,
      );
    }
  }

  async apply(registry: Registry): Promise<RegistryChanges> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [REGISTRY_LOCK]);
      const rows = await manager.findBy(Client, { id: In(registry.clients.map(({ id }) => id)) });
      const existing = new Map(rows.map((row) => [row.id, row]));
      const changes: RegistryChanges = { registered: [], updated: [] };
      for (const wanted of registry.clients) {
        const row = existing.get(wanted.id);
        if (!row) {
          await this.register(manager, wanted);
          changes.registered.push(wanted.id);
        } else if (await this.update(manager, row, wanted)) {
          changes.updated.push(wanted.id);
        }
      }
      // Running instances drop what they cached of these clients once this commits (ClientCache).
      for (const id of [...changes.registered, ...changes.updated]) {
        await announceClientChange(manager, id);
      }
      return changes;
    });
  }

  private async register(manager: EntityManager, wanted: RegisteredClient): Promise<void> {
    await manager.insert(Client, { ...wanted, secretHash: null });
    await this.audit.record(
      {
        type: 'client.registered',
        detail: {
          clientId: wanted.id,
          ...Object.fromEntries(
            OWNED.filter((field) => !isUnset(field, wanted[field])).map((field) => [
              field,
              describe(wanted[field]),
            ]),
          ),
        },
      },
      manager,
    );
  }

  /** Brings the row to the registry's values; false when it already has them. */
  private async update(
    manager: EntityManager,
    row: Client,
    wanted: RegisteredClient,
  ): Promise<boolean> {
    const changed = OWNED.filter((field) => describe(row[field]) !== describe(wanted[field]));
    if (changed.length === 0) return false;
    if (wanted.type === 'public' && row.secretHash !== null) {
      throw new Error(
        `${REGISTRY_FILE} makes ${row.id} a public client, but it has a secret: a public client holds none. ` +
          'Give the registry entry another id, or clear the secret by hand first',
      );
    }
    const values: Partial<Pick<Client, Owned>> = {};
    for (const field of changed) Object.assign(values, { [field]: wanted[field] });
    await manager.update(Client, { id: row.id }, values);
    await this.audit.record(
      {
        type: 'client.updated',
        detail: {
          clientId: row.id,
          changed: changed.join(' '),
          ...Object.fromEntries(
            changed.flatMap((field: Owned) => [
              [field, describe(wanted[field])],
              [`${field}Before`, describe(row[field])],
            ]),
          ),
        },
      },
      manager,
    );
    return true;
  }
}

/** The code flow's fields, which a client without that flow leaves unset. */
const FLOW_FIELDS: readonly Owned[] = ['redirectUris', 'postLogoutRedirectUris', 'firstParty'];

/** A code-flow field left unset: a registration's audit line leaves it out. */
function isUnset(field: Owned, value: string | boolean | readonly string[]): boolean {
  return (
    FLOW_FIELDS.includes(field) && (value === false || (Array.isArray(value) && value.length === 0))
  );
}

/** A column's value as the audit log shows it (space-separated, in order); also what is compared. */
function describe(value: string | boolean | readonly string[]): string {
  if (typeof value === 'boolean') return String(value);
  return typeof value === 'string' ? value : value.join(' ');
}
