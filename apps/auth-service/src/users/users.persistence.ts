import { CreateUsers1763798400000 } from '../database/migrations/1763798400000-create-users';
import { User } from './user.entity';

/** For database/entities.ts and database/migrations/index.ts. */
export const usersEntities = [User];
export const usersMigrations = [CreateUsers1763798400000];
