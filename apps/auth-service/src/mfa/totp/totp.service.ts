import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { Clock } from '@tessera/auth-token';
import { Secret, TOTP } from 'otpauth';
import type * as QRCode from 'qrcode';
import { IsNull, Not, Repository } from 'typeorm';
import { authServiceConfig } from '../../config/auth-service.config';
import { KEY_ENCRYPTION_KEY } from '../../keys/key-encryption-key.provider';
import { KeyEncryption } from '../../keys/key-encryption';
import { TotpAlreadyEnrolledException } from '../mfa.errors';
import { TotpFactor } from './totp-factor.entity';

/** RFC 6238 defaults, which every authenticator app understands. */
const PERIOD_SECONDS = 30;
const DIGITS = 6;
/** One step either side: a phone's clock a little off, or a code typed as it turned. */
const WINDOW_STEPS = 1;

/** What enrolment shows once: the URI (and its QR code) to add to an authenticator app. */
export interface TotpEnrolment {
  /** `otpauth://totp/…` with the secret, for the app. */
  otpauthUri: string;
  /** The same URI as a QR code, an SVG in a `data:` URL. */
  qrCode: string;
  /** base32, for typing in by hand. */
  secret: string;
}

/**
 * TOTP (RFC 6238) with otpauth. Secrets are encrypted at rest with KEY_ENCRYPTION_KEY, the way
 * the signing keys are (KeyEncryption, with the user id as associated data, so a secret cannot be
 * moved to another user's row). A code is accepted once: its time step is recorded, and a code of
 * that step or an earlier one is refused afterwards (checklist M1).
 */
@Injectable()
export class TotpService {
  private readonly encryption: KeyEncryption;

  constructor(
    @InjectRepository(TotpFactor) private readonly factors: Repository<TotpFactor>,
    @Inject(KEY_ENCRYPTION_KEY) keyEncryptionKey: Buffer,
    @Inject(authServiceConfig.KEY) private readonly env: ConfigType<typeof authServiceConfig>,
    private readonly clock: Clock,
  ) {
    this.encryption = new KeyEncryption(keyEncryptionKey);
  }

  /**
   * Starts (or restarts) an enrolment with a fresh secret; it counts only once confirmed.
   * @throws TotpAlreadyEnrolledException when a confirmed one is there
   */
  async begin(userId: string, accountName: string): Promise<TotpEnrolment> {
    const existing = await this.factors.findOneBy({ userId });
    if (existing?.confirmedAt) throw new TotpAlreadyEnrolledException();
    const secret = new Secret({ size: 20 });
    await this.factors.upsert(
      {
        userId,
        secretEncrypted: this.encryption.encrypt(secret.base32, associatedData(userId)),
        confirmedAt: null,
        lastUsedStep: null,
        createdAt: this.clock.now(),
      },
      ['userId'],
    );
    const otpauthUri = this.totp(secret.base32, accountName).toString();
    // Required here, not at start: only an enrolment draws a QR code (docs/performance.md).
    const qrCode = require('qrcode') as typeof QRCode;
    const svg = await qrCode.toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M' });
    return {
      otpauthUri,
      qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
      secret: secret.base32,
    };
  }

  /** Whether the user has a confirmed authenticator. */
  async isEnrolled(userId: string): Promise<boolean> {
    return this.factors.exists({ where: { userId, confirmedAt: Not(IsNull()) } });
  }

  /**
   * Confirms a waiting enrolment with its first code.
   * @returns false when there is none waiting or the code is wrong
   */
  confirm(userId: string, code: string): Promise<boolean> {
    return this.accept(userId, code, false);
  }

  /** Checks a code of the user's confirmed authenticator, and spends its time step. */
  verify(userId: string, code: string): Promise<boolean> {
    return this.accept(userId, code, true);
  }

  /** @returns whether there was one to remove */
  async remove(userId: string): Promise<boolean> {
    return ((await this.factors.delete({ userId })).affected ?? 0) > 0;
  }

  private async accept(userId: string, code: string, confirmed: boolean): Promise<boolean> {
    const factor = await this.factors.findOneBy({ userId });
    if (!factor || !!factor.confirmedAt !== confirmed || !/^\d{6}$/.test(code)) return false;
    const secret = this.encryption.decrypt(factor.secretEncrypted, associatedData(userId));
    const now = this.clock.now().getTime();
    const delta = this.totp(secret, '').validate({
      token: code,
      timestamp: now,
      window: WINDOW_STEPS,
    });
    if (delta === null) return false;
    const step = Math.floor(now / 1000 / PERIOD_SECONDS) + delta;
    // One statement: of two requests with the same code, one spends the step and the other finds
    // it spent (a replay within the step is refused).
    const rows: unknown[] = await this.factors.query(
      `WITH spent AS (
         UPDATE totp_factors SET last_used_step = $2, confirmed_at = COALESCE(confirmed_at, $3)
          WHERE user_id = $1 AND (confirmed_at IS NOT NULL) = $4
            AND (last_used_step IS NULL OR last_used_step < $2)
         RETURNING user_id
       )
       SELECT user_id FROM spent`,
      [userId, step, this.clock.now(), confirmed],
    );
    return rows.length === 1;
  }

  private totp(secret: string, label: string): TOTP {
    return new TOTP({
      issuer: this.env.MFA_ISSUER_NAME,
      label,
      algorithm: 'SHA1',
      digits: DIGITS,
      period: PERIOD_SECONDS,
      secret: Secret.fromBase32(secret),
    });
  }
}

function associatedData(userId: string): string {
  return `totp:${userId}`;
}
