import { Injectable } from '@nestjs/common';
import { Clock } from '@tessera/auth-token';
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { AccountToken } from './account-token.entity';
import type { AccountTokenPurpose } from './account-token.entity';

/** 256 bits in unpadded base64url. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** Wrong codes a verification token survives; the next one ends it (the link too). */
export const CODE_ATTEMPTS = 5;

export interface IssuedAccountToken {
  token: string;
  /** Six digits, for email_verification only. */
  code?: string;
}

export interface AccountTokenRequest {
  userId: string;
  purpose: AccountTokenPurpose;
  email: string;
  ttlSeconds: number;
  /** A reset token: the password hash it is issued under. */
  passwordHash?: string;
  withCode?: boolean;
}

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** The fingerprint of a password hash: a reset token dies when the password is another. */
export const passwordFingerprint = (passwordHash: string) => sha256(`password:${passwordHash}`);

/**
 * The mailed links' tokens (checklist M5): 256 random bits, only their SHA-256 stored, single-use
 * (spent by one atomic UPDATE), short-lived, and one live token per user and purpose: issuing one
 * deletes the others.
 */
@Injectable()
export class AccountTokens {
  constructor(private readonly clock: Clock) {}

  async issue(manager: EntityManager, request: AccountTokenRequest): Promise<IssuedAccountToken> {
    const token = randomBytes(32).toString('base64url');
    const code = request.withCode ? String(randomInt(0, 1_000_000)).padStart(6, '0') : undefined;
    await manager.delete(AccountToken, { userId: request.userId, purpose: request.purpose });
    await manager.insert(AccountToken, {
      userId: request.userId,
      purpose: request.purpose,
      tokenHash: sha256(token),
      codeHash: code === undefined ? null : sha256(`${request.userId}:${code}`),
      email: request.email,
      passwordFingerprint:
        request.passwordHash === undefined ? null : passwordFingerprint(request.passwordHash),
      expiresAt: new Date(this.clock.now().getTime() + request.ttlSeconds * 1000),
    });
    return { token, code };
  }

  /**
   * Spends a token of `purpose`: the row if it was live (unused, unexpired), else undefined. Two
   * requests with the same token never both get it.
   */
  async spend(
    manager: EntityManager,
    purpose: AccountTokenPurpose,
    token: string,
  ): Promise<AccountToken | undefined> {
    if (!TOKEN_PATTERN.test(token)) return undefined;
    return this.spendWhere(manager, `token_hash = $2`, [purpose, sha256(token)]);
  }

  /**
   * Spends the user's live verification token by its code. A wrong code counts against the token;
   * the CODE_ATTEMPTS-th wrong one ends it.
   */
  async spendCode(
    manager: EntityManager,
    userId: string,
    code: string,
  ): Promise<AccountToken | undefined> {
    const live = await manager
      .createQueryBuilder(AccountToken, 'token')
      .setLock('pessimistic_write')
      .where(
        'token.user_id = :userId AND token.purpose = :purpose AND token.used_at IS NULL AND token.expires_at > :now AND token.code_hash IS NOT NULL',
        { userId, purpose: 'email_verification', now: this.clock.now() },
      )
      .getOne();
    if (!live?.codeHash) return undefined;
    const given = sha256(`${userId}:${code}`);
    if (!timingSafeEqual(given, live.codeHash)) {
      const attempts = live.codeAttempts + 1;
      await manager.update(
        AccountToken,
        { id: live.id },
        attempts >= CODE_ATTEMPTS
          ? { codeAttempts: attempts, usedAt: this.clock.now() }
          : { codeAttempts: attempts },
      );
      return undefined;
    }
    return this.spendWhere(manager, `id = $2`, ['email_verification', live.id]);
  }

  /** Deletes the user's unspent tokens of these purposes (a reset, an email change). */
  async revoke(
    manager: EntityManager,
    userId: string,
    purposes: readonly AccountTokenPurpose[],
  ): Promise<void> {
    await manager
      .createQueryBuilder()
      .delete()
      .from(AccountToken)
      .where('user_id = :userId AND purpose IN (:...purposes)', { userId, purposes })
      .execute();
  }

  private async spendWhere(
    manager: EntityManager,
    condition: string,
    parameters: unknown[],
  ): Promise<AccountToken | undefined> {
    // In a CTE: TypeORM answers a bare UPDATE … RETURNING with [rows, count].
    const rows = await manager.query<Record<string, unknown>[]>(
      `WITH spent AS (
         UPDATE account_tokens SET used_at = $${parameters.length + 1}
          WHERE purpose = $1 AND ${condition} AND used_at IS NULL AND expires_at > $${parameters.length + 1}
          RETURNING id, user_id, purpose, email, password_fingerprint, expires_at
       ) SELECT * FROM spent`,
      [...parameters, this.clock.now()],
    );
    const [row] = rows;
    if (!row) return undefined;
    return Object.assign(new AccountToken(), {
      id: row['id'] as string,
      userId: row['user_id'] as string,
      purpose: row['purpose'] as AccountTokenPurpose,
      email: row['email'] as string,
      passwordFingerprint: row['password_fingerprint'] as Buffer | null,
      expiresAt: row['expires_at'] as Date,
    });
  }
}
