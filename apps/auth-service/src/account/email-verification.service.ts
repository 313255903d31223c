import { Inject, Injectable } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { Clock } from '@tessera/auth-token';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { authServiceConfig } from '../config/auth-service.config';
import { ACCOUNT_LINK_PATHS, inWords, MailComposer } from '../mail/mail.composer';
import { normaliseEmail } from '../users/normalise-email';
import { User } from '../users/user.entity';
import type { RequestOrigin } from '../users/users.service';
import { UsersService } from '../users/users.service';
import { AccountMailThrottle } from './account-mail-throttle';
import { AccountTokens } from './account-tokens';
import type { AccountToken } from './account-token.entity';
import { AccountMetrics } from './account.metrics';
import { InvalidAccountTokenException } from './account.errors';
import { DetachedWork } from './detached-work';

/**
 * Email verification: a link and a six-digit code mailed at registration and on request; either
 * proves the address (`users.email_verified_at`), which tokens then carry as `email_verified`.
 */
@Injectable()
export class EmailVerificationService implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly tokens: AccountTokens,
    private readonly mail: MailComposer,
    private readonly throttle: AccountMailThrottle,
    private readonly detached: DetachedWork,
    private readonly audit: AuditService,
    private readonly metrics: AccountMetrics,
    private readonly clock: Clock,
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  /** Every registration mails its link, in the registration's own transaction. */
  onModuleInit(): void {
    this.users.onRegistration((user, manager) => this.send(manager, user));
  }

  /**
   * Mails a new link and code to `email` if an account has it unverified; the same answer, at
   * once, whatever the case (the work is detached). Throttled like every account mail.
   */
  async resend(email: string, origin: RequestOrigin & { clientAddress: string }): Promise<void> {
    await this.throttle.countAddress('verification', origin.clientAddress);
    const address = normaliseEmail(email);
    this.detached.run('Resending a verification mail', async () => {
      const user = await this.users.findByEmail(address);
      if (!user || user.emailVerifiedAt || user.disabledAt) return;
      if (!(await this.throttle.mayMail('verification', user.id))) {
        this.metrics.count('mail_throttled');
        return;
      }
      await this.dataSource.transaction((manager) => this.send(manager, user));
      await this.audit.record({ type: 'email.verification_sent', userId: user.id, ...origin });
    });
  }

  /** Verifies by the link's token. @throws InvalidAccountTokenException */
  async verifyByToken(token: string, origin: RequestOrigin): Promise<User> {
    return this.verify(
      (manager) => this.tokens.spend(manager, 'email_verification', token),
      origin,
    );
  }

  /** Verifies by the mailed code, typed with the address. @throws InvalidAccountTokenException */
  async verifyByCode(
    email: string,
    code: string,
    origin: RequestOrigin & { clientAddress: string },
  ) {
    await this.throttle.countAddress('verification_code', origin.clientAddress);
    const user = await this.users.findByEmail(email);
    return this.verify(
      async (manager) => (user ? this.tokens.spendCode(manager, user.id, code) : undefined),
      origin,
    );
  }

  private async verify(
    spend: (manager: EntityManager) => Promise<AccountToken | undefined>,
    origin: RequestOrigin,
  ): Promise<User> {
    const verified = await this.dataSource.transaction(async (manager) => {
      const token = await spend(manager);
      if (!token) return undefined;
      const user = await manager.findOneBy(User, { id: token.userId });
      // The address changed since the mail was sent: that mail proves nothing about the new one.
      if (!user || user.email !== token.email) return undefined;
      user.emailVerifiedAt ??= this.clock.now();
      await manager.update(User, { id: user.id }, { emailVerifiedAt: user.emailVerifiedAt });
      return user;
    });
    if (!verified) {
      this.metrics.count('token_refused');
      await this.audit.record({
        type: 'account.token_refused',
        ...origin,
        detail: { purpose: 'email_verification' },
      });
      throw new InvalidAccountTokenException();
    }
    this.metrics.count('email_verified');
    await this.audit.record({ type: 'email.verified', userId: verified.id, ...origin });
    return verified;
  }

  private async send(manager: EntityManager, user: User): Promise<void> {
    const ttl = this.environment.EMAIL_VERIFICATION_TTL;
    const { token, code } = await this.tokens.issue(manager, {
      userId: user.id,
      purpose: 'email_verification',
      email: user.email,
      ttlSeconds: ttl,
      withCode: true,
    });
    await this.mail.enqueue(manager, user.email, 'verify-email', {
      link: this.mail.link(ACCOUNT_LINK_PATHS.verifyEmail, token),
      code: code ?? '',
      validFor: inWords(ttl),
    });
    this.metrics.count('verification_sent');
  }
}
