import { AccountToken } from '../account/account-token.entity';
import { AuditEvent } from '../audit/audit-event.entity';
import { Client } from '../clients/client.entity';
import { SigningKey } from '../keys/signing-key.entity';
import { LoginFailure } from '../login/login-failure.entity';
import { OutboxMessage } from '../outbox/outbox-message.entity';
import { Revocation } from '../revocations/revocation.entity';
import { RefreshToken } from '../sessions/refresh-token.entity';
import { Session } from '../sessions/session.entity';
import { User } from '../users/user.entity';
import { MfaFailure } from '../mfa/mfa-failure.entity';
import { Passkey } from '../mfa/passkeys/passkey.entity';
import { WebAuthnChallenge } from '../mfa/passkeys/webauthn-challenge.entity';
import { PendingSignIn } from '../mfa/pending-sign-in.entity';
import { RecoveryCode } from '../mfa/recovery-codes/recovery-code.entity';
import { TotpFactor } from '../mfa/totp/totp-factor.entity';
import { ReferenceToken } from '../tokens/reference-token.entity';

/**
 * Every entity of the service's one database. This folder owns the persistence lists (this one
 * and migrations/index.ts); a feature owns its entity classes and never imports from here.
 */
export const entities = [
  User,
  SigningKey,
  LoginFailure,
  AuditEvent,
  Session,
  RefreshToken,
  Client,
  Revocation,
  OutboxMessage,
  AccountToken,
  TotpFactor,
  RecoveryCode,
  Passkey,
  WebAuthnChallenge,
  PendingSignIn,
  MfaFailure,
  ReferenceToken,
];
