import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { Clock } from '@tessera/auth-token';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { authServiceConfig } from '../config/auth-service.config';
import { ACCOUNT_LINK_PATHS, inWords, MailComposer } from '../mail/mail.composer';
import { SessionsService } from '../sessions/sessions.service';
import { normaliseEmail } from '../users/normalise-email';
import { PasswordHasher } from '../users/password-hasher';
import { PasswordPolicy } from '../users/password-policy';
import { User } from '../users/user.entity';
import type { RequestOrigin } from '../users/users.service';
import { UsersService } from '../users/users.service';
import { AccountMailThrottle } from './account-mail-throttle';
import { AccountTokens, passwordFingerprint } from './account-tokens';
import { AccountMetrics } from './account.metrics';
import { InvalidAccountTokenException } from './account.errors';
import { DetachedWork } from './detached-work';

/**
 * Password reset (checklist M5, M6): a request always gets the same answer at once, the link is
 * mailed in the background if an account has the address; the link works once, for
 * PASSWORD_RESET_TTL, only while it is the newest and the password is the one it was issued
 * under. A reset ends every session of the account (through the revocation feed, so resource
 * services refuse its access tokens within 2 s) and mails a notice.
 */
@Injectable()
export class PasswordResetService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly sessions: SessionsService,
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

  /** @throws TooManyAccountRequestsException past ACCOUNT_MAIL_ADDRESS_LIMIT, for any address */
  async request(email: string, origin: RequestOrigin & { clientAddress: string }): Promise<void> {
    await this.throttle.countAddress('password_reset', origin.clientAddress);
    this.metrics.count('reset_requested');
    const address = normaliseEmail(email);
    this.detached.run('A password-reset request', async () => {
      // Counted per address whether or not it has an account: the counter says nothing either.
      if (!(await this.throttle.mayMail('password_reset', address))) {
        this.metrics.count('mail_throttled');
        return;
      }
      const user = await this.users.findByEmail(address);
      if (!user || user.disabledAt) return;
      await this.dataSource.transaction(async (manager) => {
        const ttl = this.environment.PASSWORD_RESET_TTL;
        const { token } = await this.tokens.issue(manager, {
          userId: user.id,
          purpose: 'password_reset',
          email: user.email,
          ttlSeconds: ttl,
          passwordHash: user.passwordHash,
        });
        await this.mail.enqueue(manager, user.email, 'reset-password', {
          link: this.mail.link(ACCOUNT_LINK_PATHS.resetPassword, token),
          validFor: inWords(ttl),
        });
        await this.audit.record(
          { type: 'password.reset_requested', userId: user.id, ...origin },
          manager,
        );
      });
      this.metrics.count('reset_sent');
    });
  }

  /**
   * Sets a new password with a reset link's token, ends every session of the account, mails the
   * notice. The address is verified by the way: the link reached it.
   *
   * @throws InvalidAccountTokenException for a token that is not live
   * @throws WeakPasswordException (400) before the token is spent, so a retry can use it
   */
  async reset(
    token: string,
    newPassword: string,
    origin: RequestOrigin & { clientAddress: string },
  ): Promise<void> {
    await this.throttle.countAddress('password_reset_use', origin.clientAddress);
    this.policy.enforce(newPassword);
    const passwordHash = await this.hasher.hash(newPassword);
    const reset = await this.dataSource.transaction(async (manager) => {
      const spent = await this.tokens.spend(manager, 'password_reset', token);
      if (!spent) return undefined;
      const user = await manager.findOne(User, {
        where: { id: spent.userId },
        lock: { mode: 'pessimistic_write' },
      });
      const sameAccount =
        user &&
        !user.disabledAt &&
        user.email === spent.email &&
        spent.passwordFingerprint?.equals(passwordFingerprint(user.passwordHash));
      if (!user || !sameAccount) return undefined;
      this.policy.enforce(newPassword, user.email);
      await manager.update(
        User,
        { id: user.id },
        { passwordHash, emailVerifiedAt: user.emailVerifiedAt ?? this.clock.now() },
      );
      await this.tokens.revoke(manager, user.id, ['password_reset']);
      await this.mail.enqueue(manager, user.email, 'password-changed', {
        how: 'with a reset link',
        forgotLink: this.mail.link(ACCOUNT_LINK_PATHS.forgotPassword),
      });
      await this.audit.record({ type: 'password.reset', userId: user.id, ...origin }, manager);
      return user;
    });
    if (!reset) {
      this.metrics.count('token_refused');
      await this.audit.record({
        type: 'account.token_refused',
        ...origin,
        detail: { purpose: 'password_reset' },
      });
      throw new InvalidAccountTokenException();
    }
    // After the commit: the revocation feed carries it to every resource service.
    const ended = await this.sessions.revokeAllForUser(reset.id, 'password_changed');
    await this.audit.record({
      type: 'session.revoked',
      userId: reset.id,
      ...origin,
      detail: { reason: 'password_reset', sessions: ended },
    });
    this.metrics.count('password_reset');
  }
}
