import { entities } from './entities';
import { migrations } from './migrations';

/**
 * auth-service's database, as ServiceCoreModule takes it. `appendOnly`: the tables the service's
 * own database role may only read and append to, never UPDATE, DELETE or TRUNCATE: the audit
 * log, whose rows leave only through its owner's pruning function (docs/security-model.md,
 * "Database roles").
 */
export const authDatabase = {
  name: 'auth',
  dataFolder: 'auth-service',
  entities,
  migrations,
  appendOnly: ['audit_events'],
};
