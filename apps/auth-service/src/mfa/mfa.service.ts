import { Injectable } from '@nestjs/common';
import { AMR, Clock } from '@tessera/auth-token';
import type { AuthenticationMethod } from '@tessera/auth-token';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { AuditService } from '../audit/audit.service';
import { LoginThrottle } from '../login/login-throttle.service';
import { SessionsService } from '../sessions/sessions.service';
import type { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { MfaLockout } from './mfa-lockout.service';
import { MfaMetrics } from './mfa-metrics';
import { InvalidSecondFactorException, NoTotpEnrolmentException } from './mfa.errors';
import type { SecondFactorMethod } from './mfa.errors';
import { PasskeysService } from './passkeys/passkeys.service';
import type { PasskeyAssertion } from './passkeys/passkeys.service';
import { RecoveryCodesService } from './recovery-codes/recovery-codes.service';
import { TotpService } from './totp/totp.service';
import type { TotpEnrolment } from './totp/totp.service';

/** Where a request came from, for the audit log. */
export interface MfaOrigin {
  clientAddress: string;
  userAgent?: string;
}

/** One second factor, as a sign-in or a step-up sends it: exactly one of these. */
export interface SecondFactorProof {
  /** A six-digit TOTP code. */
  code?: string;
  recoveryCode?: string;
  /** A WebAuthn assertion for a challenge of `PasskeysService.authenticationOptions(userId)`. */
  passkey?: PasskeyAssertion;
}

/** What an account has: for `GET /auth/mfa`. */
export interface MfaStatus {
  totp: boolean;
  recoveryCodesLeft: number;
  passkeys: number;
}

/**
 * The account's second factors as one: which it has, checking one (locked out after
 * MFA_FAILURE_LIMIT failures), enrolling and removing them. Every enrolment, use, failure and
 * removal is audited and counted (MfaMetrics).
 */
@Injectable()
export class MfaService {
  constructor(
    private readonly totp: TotpService,
    private readonly recoveryCodes: RecoveryCodesService,
    private readonly passkeys: PasskeysService,
    private readonly lockout: MfaLockout,
    private readonly audit: AuditService,
    private readonly metrics: MfaMetrics,
    private readonly users: UsersService,
    private readonly throttle: LoginThrottle,
    private readonly clock: Clock,
    private readonly sessions: SessionsService,
  ) {}

  /** The methods a sign-in of this user can finish with; none when the account has no factor. */
  async methodsOf(userId: string): Promise<SecondFactorMethod[]> {
    const status = await this.status(userId);
    const factors: SecondFactorMethod[] = [
      ...(status.totp ? (['totp'] as const) : []),
      ...(status.passkeys > 0 ? (['passkey'] as const) : []),
    ];
    if (factors.length > 0 && status.recoveryCodesLeft > 0) factors.push('recovery_code');
    return factors;
  }

  async status(userId: string): Promise<MfaStatus> {
    const [totp, recoveryCodesLeft, passkeys] = await Promise.all([
      this.totp.isEnrolled(userId),
      this.recoveryCodes.remaining(userId),
      this.passkeys.count(userId),
    ]);
    return { totp, recoveryCodesLeft, passkeys };
  }

  /**
   * Checks one second factor of the user's.
   *
   * @returns the RFC 8176 methods it adds to the sign-in's `amr`
   * @throws TooManySecondFactorAttemptsException (429) while the user is locked out, before any check
   * @throws InvalidSecondFactorException (401) for a wrong, replayed or spent one
   */
  async verify(
    userId: string,
    proof: SecondFactorProof,
    origin: MfaOrigin,
  ): Promise<AuthenticationMethod[]> {
    await this.lockout.assertOpen(userId);
    const method: SecondFactorMethod = proof.passkey
      ? 'passkey'
      : proof.recoveryCode !== undefined
        ? 'recovery_code'
        : 'totp';
    const valid = await this.check(userId, method, proof);
    if (!valid) {
      const locked = await this.lockout.failed(userId);
      await this.record(userId, method, 'failed', origin);
      if (locked) await this.record(userId, method, 'locked', origin);
      throw new InvalidSecondFactorException();
    }
    await this.lockout.succeeded(userId);
    await this.record(userId, method, 'verified', origin);
    return method === 'passkey' ? [AMR.hardwareKey, AMR.userPresence] : [AMR.oneTimePassword];
  }

  /**
   * Options for a passwordless passkey sign-in: a challenge stored for anyone who asks, so
   * throttled per client address like registrations (PASSKEY_OPTIONS_ADDRESS_LIMIT).
   * @throws TooManyPasskeySignInsException (429 with Retry-After) past the limit; nothing stored
   */
  async passwordlessOptions(origin: MfaOrigin): Promise<PublicKeyCredentialRequestOptionsJSON> {
    await this.throttle.beginPasskeyOptions(origin.clientAddress, this.clock.now());
    return this.passkeys.authenticationOptions();
  }

  /**
   * A passwordless sign-in with a discoverable passkey (user verification required): its user,
   * audited (`login.succeeded` or `login.failed`, method `passkey`) and counted.
   * @throws InvalidSecondFactorException (401) when it does not verify, or the account is disabled
   */
  async passkeySignIn(assertion: PasskeyAssertion, origin: MfaOrigin): Promise<User> {
    const userId = await this.passkeys.authenticate(assertion);
    const user = userId ? await this.users.findById(userId) : null;
    if (!user || user.disabledAt) {
      await this.audit.record({
        type: 'login.failed',
        userId: user?.id,
        ...origin,
        detail: { reason: user ? 'disabled' : 'passkey_not_verified', method: 'passkey' },
      });
      throw new InvalidSecondFactorException();
    }
    await this.record(user.id, 'passkey', 'verified', origin);
    await this.audit.record({
      type: 'login.succeeded',
      userId: user.id,
      ...origin,
      detail: { method: 'passkey' },
    });
    return user;
  }

  beginTotp(userId: string, accountName: string): Promise<TotpEnrolment> {
    return this.totp.begin(userId, accountName);
  }

  /**
   * Confirms the waiting TOTP enrolment with its first code (throttled like any second factor).
   * @param sessionId the session enrolling it, which a first factor leaves signed in
   * @returns the recovery codes, when this is the account's first factor (else an empty list: the
   *   codes it has stay valid)
   */
  async confirmTotp(
    userId: string,
    code: string,
    origin: MfaOrigin,
    sessionId?: string,
  ): Promise<string[]> {
    await this.lockout.assertOpen(userId);
    const hadFactor = (await this.methodsOf(userId)).length > 0;
    if (!(await this.totp.confirm(userId, code))) {
      await this.lockout.failed(userId);
      await this.record(userId, 'totp', 'failed', origin);
      throw new InvalidSecondFactorException();
    }
    await this.record(userId, 'totp', 'enrolled', origin);
    return hadFactor ? [] : this.firstFactorEnrolled(userId, sessionId, origin);
  }

  /**
   * The account's first factor is in: its recovery codes, and every other sign-in of the user
   * ends (tokens' sessions and hosted-page sessions, as a password change ends them), but
   * `sessionId`, the one that enrolled it. A sign-in made with the password alone before must
   * not go on as if it had been asked for the factor; the owner signs in there again, now with it.
   * @returns the new recovery codes
   */
  async firstFactorEnrolled(
    userId: string,
    sessionId: string | undefined,
    origin: MfaOrigin,
  ): Promise<string[]> {
    const codes = await this.regenerateRecoveryCodes(userId, origin);
    await this.sessions.revokeAllForUser(userId, 'logout_all', { exceptSessionId: sessionId });
    return codes;
  }

  /** @throws NoTotpEnrolmentException when there is none */
  async removeTotp(userId: string, origin: MfaOrigin): Promise<void> {
    if (!(await this.totp.remove(userId))) throw new NoTotpEnrolmentException();
    await this.record(userId, 'totp', 'removed', origin);
    await this.dropRecoveryCodesIfNoFactor(userId);
  }

  /** A new set of ten recovery codes; the old set stops working. */
  async regenerateRecoveryCodes(userId: string, origin: MfaOrigin): Promise<string[]> {
    const codes = await this.recoveryCodes.generate(userId);
    this.metrics.count('recovery_code', 'enrolled');
    await this.audit.record({
      type: 'mfa.recovery_codes_generated',
      userId,
      ...origin,
      detail: { count: codes.length },
    });
    return codes;
  }

  /** After a factor went: recovery codes alone are no second factor, and must not linger. */
  async dropRecoveryCodesIfNoFactor(userId: string): Promise<void> {
    const status = await this.status(userId);
    if (!status.totp && status.passkeys === 0) await this.recoveryCodes.removeAll(userId);
  }

  /** Audits and counts one event of a factor. */
  async record(
    userId: string,
    method: SecondFactorMethod,
    outcome: 'enrolled' | 'verified' | 'failed' | 'locked' | 'removed',
    origin: MfaOrigin,
  ): Promise<void> {
    this.metrics.count(method, outcome);
    await this.audit.record({ type: `mfa.${outcome}`, userId, ...origin, detail: { method } });
  }

  private async check(
    userId: string,
    method: SecondFactorMethod,
    proof: SecondFactorProof,
  ): Promise<boolean> {
    switch (method) {
      case 'passkey':
        return this.passkeys.verifySecondFactor(userId, proof.passkey as PasskeyAssertion);
      case 'recovery_code':
        // Recovery codes are a second factor only beside another one.
        return (
          (await this.methodsOf(userId)).includes('recovery_code') &&
          this.recoveryCodes.consume(userId, proof.recoveryCode ?? '')
        );
      case 'totp':
        return this.totp.verify(userId, proof.code ?? '');
    }
  }
}
