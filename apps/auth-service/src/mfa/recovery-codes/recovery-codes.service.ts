import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Clock } from '@tessera/auth-token';
import { createHmac, hkdfSync, randomInt } from 'node:crypto';
import { IsNull, Repository } from 'typeorm';
import { KEY_ENCRYPTION_KEY } from '../../keys/key-encryption-key.provider';
import { RecoveryCode } from './recovery-code.entity';

/** How many codes a user gets, each time they are (re)generated. */
export const RECOVERY_CODE_COUNT = 10;
/** Crockford's base32 without look-alikes: 12 characters carry 60 bits. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const CODE_LENGTH = 12;

/**
 * Recovery codes (checklist M2): ten random codes, shown once, stored as HMAC-SHA-256 under a key
 * derived from KEY_ENCRYPTION_KEY (60 random bits each need no slow hash: a stolen table without
 * the key tells nothing, and guessing online is locked out by MfaLockout), each single-use. A new
 * set replaces the old one whole.
 */
@Injectable()
export class RecoveryCodesService {
  private readonly hashKey: Buffer;

  constructor(
    @InjectRepository(RecoveryCode) private readonly codes: Repository<RecoveryCode>,
    @Inject(KEY_ENCRYPTION_KEY) keyEncryptionKey: Buffer,
    private readonly clock: Clock,
  ) {
    this.hashKey = Buffer.from(
      hkdfSync('sha256', keyEncryptionKey, Buffer.alloc(0), 'tessera recovery codes', 32),
    );
  }

  /** A new set of codes, replacing any the user had. @returns the codes, formatted `xxxx-xxxx-xxxx` */
  async generate(userId: string): Promise<string[]> {
    const plain = Array.from({ length: RECOVERY_CODE_COUNT }, () => randomCode());
    const createdAt = this.clock.now();
    await this.codes.manager.transaction(async (manager) => {
      await manager.delete(RecoveryCode, { userId });
      await manager.insert(
        RecoveryCode,
        plain.map((code) => ({ userId, codeHash: this.hash(code), createdAt })),
      );
    });
    return plain;
  }

  /** Spends one code; false if it is not one of the user's or was spent already. */
  async consume(userId: string, code: string): Promise<boolean> {
    const rows: unknown[] = await this.codes.query(
      `WITH spent AS (
         UPDATE recovery_codes SET used_at = $3
          WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL
         RETURNING id
       )
       SELECT id FROM spent`,
      [userId, this.hash(code), this.clock.now()],
    );
    return rows.length === 1;
  }

  /** How many unspent codes the user has left. */
  remaining(userId: string): Promise<number> {
    return this.codes.countBy({ userId, usedAt: IsNull() });
  }

  async removeAll(userId: string): Promise<void> {
    await this.codes.delete({ userId });
  }

  /** Case, spaces and dashes do not matter: people copy codes from paper. */
  private hash(code: string): Buffer {
    const normalised = code.toLowerCase().replace(/[\s-]/g, '');
    return createHmac('sha256', this.hashKey).update(normalised).digest();
  }
}

function randomCode(): string {
  const characters = Array.from(
    { length: CODE_LENGTH },
    () => ALPHABET[randomInt(ALPHABET.length)],
  );
  return [0, 4, 8].map((start) => characters.slice(start, start + 4).join('')).join('-');
}
