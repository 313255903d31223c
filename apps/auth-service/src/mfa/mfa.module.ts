import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { ClockModule } from '../clock/clock.module';
import { KeyEncryptionKeyModule } from '../keys/key-encryption-key.module';
import { LoginThrottleModule } from '../login/login-throttle.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { MfaFailure } from './mfa-failure.entity';
import { MfaLockout } from './mfa-lockout.service';
import { MfaMetrics } from './mfa-metrics';
import { MfaController } from './mfa.controller';
import { MfaService } from './mfa.service';
import { Passkey } from './passkeys/passkey.entity';
import { PasskeysController } from './passkeys/passkeys.controller';
import { PasskeysService } from './passkeys/passkeys.service';
import { WebAuthnChallenge } from './passkeys/webauthn-challenge.entity';
import { PendingSignIn } from './pending-sign-in.entity';
import { PendingSignInsService } from './pending-sign-ins.service';
import { RecoveryCode } from './recovery-codes/recovery-code.entity';
import { RecoveryCodesService } from './recovery-codes/recovery-codes.service';
import { TotpFactor } from './totp/totp-factor.entity';
import { TotpService } from './totp/totp.service';

/**
 * Second factors: TOTP, recovery codes and passkeys, their enrolment API (`/auth/mfa`,
 * `/auth/passkeys`), and what sign-in needs of them (MfaService, PendingSignInsService,
 * PasskeysService for a passwordless sign-in).
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([
      TotpFactor,
      RecoveryCode,
      Passkey,
      WebAuthnChallenge,
      PendingSignIn,
      MfaFailure,
    ]),
    AuditModule,
    ClockModule,
    KeyEncryptionKeyModule,
    LoginThrottleModule,
    SessionsModule,
    UsersModule,
  ],
  controllers: [MfaController, PasskeysController],
  providers: [
    MfaService,
    MfaLockout,
    MfaMetrics,
    TotpService,
    RecoveryCodesService,
    PasskeysService,
    PendingSignInsService,
  ],
  exports: [MfaService, PasskeysService, PendingSignInsService],
})
export class MfaModule {}
