import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { Clock } from '@tessera/auth-token';
import { DataSource } from 'typeorm';
import { authServiceConfig } from '../config/auth-service.config';
import { addressGroup } from '../login/address-group';
import { TooManyAccountRequestsException } from './account.errors';

const HOUR_MS = 3_600_000;

/**
 * The throttles of account mail, counted per hour in `account_mail_requests`: per client address
 * (an IPv6 /64 is one), past ACCOUNT_MAIL_ADDRESS_LIMIT a 429; per account, past
 * ACCOUNT_MAIL_ACCOUNT_LIMIT no more mail, with the same answer as before, so a request says
 * nothing about the account and nobody can flood its inbox.
 */
@Injectable()
export class AccountMailThrottle {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  /** @throws TooManyAccountRequestsException (429, Retry-After) past the address limit */
  async countAddress(kind: string, clientAddress: string): Promise<void> {
    const seen = await this.count(kind, `address:${addressGroup(clientAddress)}`);
    if (seen > this.environment.ACCOUNT_MAIL_ADDRESS_LIMIT) {
      const hourEnds = this.hour().getTime() + HOUR_MS;
      throw new TooManyAccountRequestsException(
        Math.max(1, Math.ceil((hourEnds - this.clock.now().getTime()) / 1000)),
      );
    }
  }

  /** Whether one more mail of `kind` may go to `account` (a user id or an address) this hour. */
  async mayMail(kind: string, account: string): Promise<boolean> {
    return (
      (await this.count(kind, `account:${account}`)) <= this.environment.ACCOUNT_MAIL_ACCOUNT_LIMIT
    );
  }

  private async count(kind: string, key: string): Promise<number> {
    const hour = this.hour();
    const [row] = await this.dataSource.query<{ seen: number }[]>(
      `INSERT INTO account_mail_requests (kind, key, hour, seen) VALUES ($1, $2, $3, 1)
       ON CONFLICT (kind, key, hour) DO UPDATE SET seen = account_mail_requests.seen + 1
       RETURNING seen`,
      [kind, key, hour],
    );
    await this.dataSource.query(`DELETE FROM account_mail_requests WHERE hour < $1`, [
      new Date(hour.getTime() - HOUR_MS),
    ]);
    return row.seen;
  }

  private hour(): Date {
    return new Date(Math.floor(this.clock.now().getTime() / HOUR_MS) * HOUR_MS);
  }
}
