import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { authServiceConfig } from '../config/auth-service.config';
import { Client } from './client.entity';
import type { GrantType } from './client.entity';
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
  constructor(
    @InjectRepository(Client) private readonly clients: Repository<Client>,
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  /** CLIENT_SECRETS are set at start-up, so a deployment gives its services their secrets in one place. */
  async onApplicationBootstrap(): Promise<void> {
    for (const entry of this.environment.CLIENT_SECRETS) {
      const separator = entry.indexOf('=');
      const id = entry.slice(0, separator);
      const { affected } = await this.clients.update(
        { id, type: 'confidential' },
        { secretHash: hashClientSecret(entry.slice(separator + 1)) },
      );
      if (!affected) {
        throw new Error(
          `CLIENT_SECRETS names ${id}, which is not a confidential client; list it in apps/auth-service/registry.json or create it with the clients command`,
        );
      }
    }
  }

  find(id: string): Promise<Client | null> {
    return CLIENT_ID.test(id) ? this.clients.findOneBy({ id }) : Promise.resolve(null);
  }

  /**
   * The client these credentials prove, or null. A confidential client must present its secret
   * (compared in constant time); a public one must present none. An unknown client costs the
   * same hash comparison as a known one.
   */
  async authenticate(credentials: ClientCredentials): Promise<Client | null> {
    const client = await this.find(credentials.clientId);
    if (credentials.secret === undefined) return client?.type === 'public' ? client : null;
    const matches = clientSecretMatches(credentials.secret, client?.secretHash ?? null);
    return client?.type === 'confidential' && matches ? client : null;
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
    await this.clients.insert(client);
    return { client, secret };
  }

  /** A new secret for a confidential client; the old one stops working at once. */
  async rotateSecret(id: string): Promise<string> {
    const secret = generateClientSecret();
    const { affected } = await this.clients.update(
      { id, type: 'confidential' },
      { secretHash: hashClientSecret(secret) },
    );
    if (!affected) throw new ClientDefinitionError(`There is no confidential client ${id}`);
    return secret;
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
