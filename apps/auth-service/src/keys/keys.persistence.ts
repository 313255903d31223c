import { CreateSigningKeys1763798400100 } from '../database/migrations/1763798400100-create-signing-keys';
import { SigningKey } from './signing-key.entity';

/** For database/entities.ts and database/migrations/index.ts. */
export const keysEntities = [SigningKey];
export const keysMigrations = [CreateSigningKeys1763798400100];
