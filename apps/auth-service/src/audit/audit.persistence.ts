import { CreateAuditEvents1763798400210 } from '../database/migrations/1763798400210-create-audit-events';
import { AuditEvent } from './audit-event.entity';

/** For database/entities.ts and database/migrations/index.ts. */
export const auditEntities = [AuditEvent];
export const auditMigrations = [CreateAuditEvents1763798400210];
