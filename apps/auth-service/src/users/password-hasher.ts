import { Injectable } from '@nestjs/common';
import { argon2id, hash, needsRehash, verify } from 'argon2';
import { randomBytes } from 'node:crypto';

/** OWASP Password Storage Cheat Sheet, argon2id minimum (checklist I11). */
export const PASSWORD_HASH_OPTIONS = {
  type: argon2id,
  memoryCost: 19456, // KiB = 19 MiB
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * argon2id hashing of passwords. Passwords are NFC-normalised first, so the same password typed
 * on systems that compose accents differently still matches; nothing is ever truncated.
 */
@Injectable()
export class PasswordHasher {
  /**
   * A hash of a random password, made once at start-up with the same cost as real ones, so that
   * checking a password for an unknown email takes as long as checking a wrong one (I9).
   */
  private readonly dummyHash: Promise<string> = this.hash(randomBytes(32).toString('base64url'));

  hash(password: string): Promise<string> {
    return hash(password.normalize('NFC'), PASSWORD_HASH_OPTIONS);
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
      return needsRehash(passwordHash, PASSWORD_HASH_OPTIONS);
    } catch {
      return true;
    }
  }
}
