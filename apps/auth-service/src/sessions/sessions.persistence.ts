import { CreateSessions1763798400300 } from '../database/migrations/1763798400300-create-sessions';
import { RefreshToken } from './refresh-token.entity';
import { Session } from './session.entity';

/** For database/entities.ts and database/migrations/index.ts. */
export const sessionsEntities = [Session, RefreshToken];
export const sessionsMigrations = [CreateSessions1763798400300];
