import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { authServiceConfig } from '../config/auth-service.config';
import { Client } from './client.entity';
import type { GrantType } from './client.entity';
import { announceClientChange, ClientCache } from './client-cache';
import { clientSecretMatches, generateClientSecret, hashClientSecret } from './client-secret';

export interface NewClient {
  id: string;
  type: Client['type'];
  grantTypes: GrantType[];
  scopes: string[];
  audiences: string[];
}

/** How a client proved who it is, as the OAuth endpoints read it from a request. */
export interface ClientCredentials {
  clientId: string;
  /** Absent for a public client. */
  secret?: string;
}

/** What is wrong with a client definition: said plainly by the `clients` command. */
export class ClientDefinitionError extends Error {}

const CLIENT_ID = /^[a-z][a-z0-9._-]{1,63}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The OAuth clients: lookup, authentication, and the administration the `clients` command does. */
@Injectable()
export class ClientsService implements OnApplicationBootstrap {
  private readonly reading = new Map<string, Promise<Client | null>>();

  constructor(
    @InjectRepository(Client) private readonly clients: Repository<Client>,
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
    private readonly cache: ClientCache,
  ) {}

  /** CLIENT_SECRETS are set at start-up, so a deployment gives its services their secrets in one place. */
  async onApplicationBootstrap(): Promise<void> {
    for (const entry of this.environment.CLIENT_SECRETS) {
      const separator = entry.indexOf('=');
      const id = entry.slice(0, separator);
      const affected = await this.setSecretHash(id, hashClientSecret(entry.slice(separator + 1)));
      if (!affected) {
        throw new Error(
          `CLIENT_SECRETS names ${id}, which is not a confidential client; list it in apps/auth-service/registry.json or create it with the clients command`,
        );
      }
    }
  }

  /** The client, from memory when ClientCache holds it (read-only: it is shared). */
  async find(id: string): Promise<Client | null> {
    if (!CLIENT_ID.test(id)) return null;
    return this.cache.get(id) ?? this.read(id);
  }

  /**
   * The client these credentials prove, or null. A confidential client must present its secret
   * (compared in constant time); a public one must present none. An unknown client costs the
   * same hash comparison as a known one. A secret that does not match the cached client is
   * checked again against the database, so a secret set a moment ago by another instance works
   * at once; a wrong one costs that read, as every request did before the cache.
   */
  async authenticate(credentials: ClientCredentials): Promise<Client | null> {
    const cached = CLIENT_ID.test(credentials.clientId)
      ? this.cache.get(credentials.clientId)
      : undefined;
    let client = cached ?? (await this.find(credentials.clientId));
    if (credentials.secret === undefined) return client?.type === 'public' ? client : null;
    let matches = clientSecretMatches(credentials.secret, client?.secretHash ?? null);
    if (!matches && cached) {
      client = await this.readNow(credentials.clientId);
      matches = clientSecretMatches(credentials.secret, client?.secretHash ?? null);
    }
    return client?.type === 'confidential' && matches ? client : null;
  }

  /** One read per client at a time: requests that miss together share it. */
  private read(id: string): Promise<Client | null> {
    let reading = this.reading.get(id);
    if (!reading) {
      reading = this.readNow(id).finally(() => this.reading.delete(id));
      this.reading.set(id, reading);
    }
    return reading;
  }

  /** A read that begins now (not one already under way, which may predate a new secret). */
  private async readNow(id: string): Promise<Client | null> {
    const ticket = this.cache.ticket();
    const client = await this.clients.findOneBy({ id });
    if (client) this.cache.store(client, ticket);
    return client;
  }

  list(): Promise<Client[]> {
    return this.clients.find({ order: { id: 'ASC' } });
  }

  /** Creates a client; a confidential one gets a secret, returned once and never stored. */
  async create(definition: NewClient): Promise<{ client: Client; secret?: string }> {
    checkDefinition(definition);
    if (await this.clients.existsBy({ id: definition.id })) {
      throw new ClientDefinitionError(`A client ${definition.id} exists already`);
    }
    const secret = definition.type === 'confidential' ? generateClientSecret() : undefined;
    const client = this.clients.create({
      ...definition,
      secretHash: secret === undefined ? null : hashClientSecret(secret),
    });
    await this.clients.manager.transaction(async (manager) => {
      await manager.insert(Client, client);
      await announceClientChange(manager, client.id);
    });
    this.cache.evict(client.id);
    return { client, secret };
  }

  /** A new secret for a confidential client; the old one stops working at once. */
  async rotateSecret(id: string): Promise<string> {
    const secret = generateClientSecret();
    if (!(await this.setSecretHash(id, hashClientSecret(secret)))) {
      throw new ClientDefinitionError(`There is no confidential client ${id}`);
    }
    return secret;
  }

  /** Sets a confidential client's secret and announces it (ClientCache); false if there is none. */
  private async setSecretHash(id: string, secretHash: Buffer): Promise<boolean> {
    const affected = await this.clients.manager.transaction(async (manager) => {
      const result = await manager.update(Client, { id, type: 'confidential' }, { secretHash });
      if (result.affected) await announceClientChange(manager, id);
      return result.affected;
    });
    // At once in this instance; the others hear of it when the transaction commits.
    this.cache.evict(id);
    return Boolean(affected);
  }

  /** Clients by id, for naming audiences that exist. */
  findMany(ids: string[]): Promise<Client[]> {
    return this.clients.findBy({ id: In(ids) });
  }
}

function checkDefinition(definition: NewClient): void {
  if (!CLIENT_ID.test(definition.id) || UUID.test(definition.id)) {
    throw new ClientDefinitionError(
      'A client id is 2–64 characters: a lower-case letter, then letters, digits, ".", "_" or "-"',
    );
  }
  if (definition.type === 'public' && definition.grantTypes.includes('client_credentials')) {
    throw new ClientDefinitionError(
      'A public client holds no secret, so it cannot use client_credentials',
    );
  }
  if (definition.grantTypes.length === 0) {
    throw new ClientDefinitionError(
      'Give the client at least one grant: refresh_token or client_credentials',
    );
  }
}
