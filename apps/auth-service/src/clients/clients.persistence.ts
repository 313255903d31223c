import { CreateClients1763798400400 } from '../database/migrations/1763798400400-create-clients';
import { Client } from './client.entity';

/** For database/entities.ts and database/migrations/index.ts. */
export const clientsEntities = [Client];
export const clientsMigrations = [CreateClients1763798400400];
