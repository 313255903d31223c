import { auditEntities } from '../audit/audit.persistence';
import { clientsEntities } from '../clients/clients.persistence';
import { keysEntities } from '../keys/keys.persistence';
import { loginEntities } from '../login/login.persistence';
import { revocationsEntities } from '../revocations/revocations.persistence';
import { sessionsEntities } from '../sessions/sessions.persistence';
import { usersEntities } from '../users/users.persistence';

export const entities = [
  ...usersEntities,
  ...keysEntities,
  ...loginEntities,
  ...auditEntities,
  ...sessionsEntities,
  ...clientsEntities,
  ...revocationsEntities,
];
