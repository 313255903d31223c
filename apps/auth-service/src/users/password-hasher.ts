import { Inject, Injectable, Optional } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { argon2id, hash, needsRehash, verify } from 'argon2';
import type { Options } from 'argon2';
import { randomBytes } from 'node:crypto';
import { authServiceConfig, OWASP_ARGON2ID_MINIMUM } from '../config/auth-service.config';

/**
 * argon2id hashing of passwords, at the cost PASSWORD_HASH_MEMORY_KIB and PASSWORD_HASH_PASSES set
 * (by default OWASP's minimum, OWASP_ARGON2ID_MINIMUM; lower only in tests). Passwords are
 * NFC-normalised first, so the same password typed on systems that compose accents differently
 * still matches; nothing is ever truncated.
 */
@Injectable()
export class PasswordHasher {
  private readonly options: Options & { raw?: false };
  /**
   * A hash of a random password, made once at start-up with the same cost as real ones, so that
   * checking a password for an unknown email takes as long as checking a wrong one (I9).
   */
  private readonly dummyHash: Promise<string>;

  constructor(
    @Optional()
    @Inject(authServiceConfig.KEY)
    environment?: Pick<
      ConfigType<typeof authServiceConfig>,
      'PASSWORD_HASH_MEMORY_KIB' | 'PASSWORD_HASH_PASSES'
    >,
  ) {
    this.options = {
      type: argon2id,
      memoryCost: environment?.PASSWORD_HASH_MEMORY_KIB ?? OWASP_ARGON2ID_MINIMUM.memoryKib,
      timeCost: environment?.PASSWORD_HASH_PASSES ?? OWASP_ARGON2ID_MINIMUM.passes,
      parallelism: 1,
    };
    this.dummyHash = this.hash(randomBytes(32).toString('base64url'));
  }

  hash(password: string): Promise<string> {
    return hash(password.normalize('NFC'), this.options);
  }

  async verify(passwordHash: string, password: string): Promise<boolean> {
    try {
      return await verify(passwordHash, password.normalize('NFC'));
    } catch {
      // A malformed stored hash is a wrong password, not a 500 that tells the account exists.
      return false;
    }
  }

  /** Spends the time of one verification and always answers false. */
  async verifyDummy(password: string): Promise<false> {
    await this.verify(await this.dummyHash, password);
    return false;
  }

  /** True when a stored hash was made with weaker (or just different) parameters than today's. */
  needsRehash(passwordHash: string): boolean {
    try {
      return needsRehash(passwordHash, this.options);
    } catch {
      return true;
    }
  }
}
