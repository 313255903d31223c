import { CreateLoginFailures1763798400200 } from '../database/migrations/1763798400200-create-login-failures';
import { LoginFailure } from './login-failure.entity';

/** For database/entities.ts and database/migrations/index.ts. */
export const loginEntities = [LoginFailure];
export const loginMigrations = [CreateLoginFailures1763798400200];
