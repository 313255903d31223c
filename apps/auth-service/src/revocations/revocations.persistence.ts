import { CreateRevocations1763798400500 } from '../database/migrations/1763798400500-create-revocations';
import { Revocation } from './revocation.entity';

/** For database/entities.ts and database/migrations/index.ts. */
export const revocationsEntities = [Revocation];
export const revocationsMigrations = [CreateRevocations1763798400500];
