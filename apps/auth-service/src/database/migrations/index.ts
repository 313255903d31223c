import { CreateUsers1763798400000 } from './1763798400000-create-users';
import { CreateSigningKeys1763798400100 } from './1763798400100-create-signing-keys';
import { CreateLoginFailures1763798400200 } from './1763798400200-create-login-failures';
import { CreateAuditEvents1763798400210 } from './1763798400210-create-audit-events';
import { CreateSessions1763798400300 } from './1763798400300-create-sessions';
import { CreateClients1763798400400 } from './1763798400400-create-clients';
import { CreateRevocations1763798400500 } from './1763798400500-create-revocations';
import { AddClientDefaultAudiences1763798400700 } from './1763798400700-add-client-default-audiences';
import { AddSessionAudiences1763798400800 } from './1763798400800-add-session-audiences';
import { CreateLoginKnownAddresses1763798400910 } from './1763798400910-create-login-known-addresses';
import { AuditFloodAndRetention1763798400920 } from './1763798400920-audit-flood-and-retention';
import { RevocationPositions1763798400940 } from './1763798400940-revocation-positions';
import { AuditPruningAsOwner1763798400950 } from './1763798400950-audit-pruning-as-owner';
import { AuthorizationCodeFlow1763798401000 } from './1763798401000-authorization-code-flow';
import { CreateOutbox1763798401100 } from './1763798401100-create-outbox';
import { AccountLifecycle1763798401110 } from './1763798401110-account-lifecycle';
import { CreateSecondFactors1763798401200 } from './1763798401200-create-second-factors';
import { SecondFactorOnPages1763798402200 } from './1763798402200-second-factor-on-pages';
import { SessionAuthTime1763798402210 } from './1763798402210-session-auth-time';
import { CreateReferenceTokens1763798402400 } from './1763798402400-create-reference-tokens';
import { PendingSignInBrowser1763798403000 } from './1763798403000-pending-sign-in-browser';
import { PendingSignInClaim1763798403010 } from './1763798403010-pending-sign-in-claim';

/**
 * Every migration of the service, in order: the one list TypeORM runs. Listed, not globbed: the
 * service is a webpack bundle.
 */
export const migrations = [
  CreateUsers1763798400000,
  CreateSigningKeys1763798400100,
  CreateLoginFailures1763798400200,
  CreateAuditEvents1763798400210,
  CreateSessions1763798400300,
  CreateClients1763798400400,
  CreateRevocations1763798400500,
  AddClientDefaultAudiences1763798400700,
  AddSessionAudiences1763798400800,
  CreateLoginKnownAddresses1763798400910,
  AuditFloodAndRetention1763798400920,
  RevocationPositions1763798400940,
  AuditPruningAsOwner1763798400950,
  AuthorizationCodeFlow1763798401000,
  CreateOutbox1763798401100,
  AccountLifecycle1763798401110,
  CreateSecondFactors1763798401200,
  SecondFactorOnPages1763798402200,
  SessionAuthTime1763798402210,
  CreateReferenceTokens1763798402400,
  PendingSignInBrowser1763798403000,
  PendingSignInClaim1763798403010,
];
