import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { Clock } from '@tessera/auth-token';
import { DataSource, QueryFailedError } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { authServiceConfig } from '../config/auth-service.config';
import { ACCOUNT_LINK_PATHS, inWords, MailComposer } from '../mail/mail.composer';
import { SessionsService } from '../sessions/sessions.service';
import { normaliseEmail } from '../users/normalise-email';
import { PasswordHasher } from '../users/password-hasher';
import { User } from '../users/user.entity';
import type { RequestOrigin } from '../users/users.service';
import { UsersService } from '../users/users.service';
import { EmailTakenException, WrongCurrentPasswordException } from '../users/users.errors';
import { AccountMailThrottle } from './account-mail-throttle';
import { AccountTokens } from './account-tokens';
import type { AccountTokenPurpose } from './account-token.entity';
import { AccountMetrics } from './account.metrics';
import { InvalidAccountTokenException } from './account.errors';

const UNIQUE_VIOLATION = '23505';

/**
 * Email change (checklist M7): the signed-in owner asks with the password, the new address gets a
 * link, and following it switches the account over (verified) and tells the old address, with a
 * link that undoes the change for EMAIL_CHANGE_UNDO_TTL: back to the old address, every session
 * ended, every pending link dead.
 */
@Injectable()
export class EmailChangeService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionsService,
    private readonly tokens: AccountTokens,
    private readonly mail: MailComposer,
    private readonly throttle: AccountMailThrottle,
    private readonly audit: AuditService,
    private readonly metrics: AccountMetrics,
    private readonly clock: Clock,
    @Inject(authServiceConfig.KEY)
    private readonly environment: ConfigType<typeof authServiceConfig>,
  ) {}

  /**
   * @throws TooManyAccountRequestsException past the address limit (counted before the password)
   * @throws WrongCurrentPasswordException, EmailTakenException (400, 409)
   */
  async request(
    userId: string,
    newEmail: string,
    password: string,
    origin: RequestOrigin & { clientAddress: string },
  ): Promise<void> {
    await this.throttle.countAddress('email_change', origin.clientAddress);
    const user = await this.users.findById(userId);
    if (!user || !(await this.hasher.verify(user.passwordHash, password))) {
      throw new WrongCurrentPasswordException();
    }
    const address = normaliseEmail(newEmail);
    if (address === user.email || (await this.users.findByEmail(address))) {
      throw new EmailTakenException();
    }
    if (!(await this.throttle.mayMail('email_change', user.id))) {
      this.metrics.count('mail_throttled');
      return;
    }
    await this.dataSource.transaction(async (manager) => {
      const ttl = this.environment.EMAIL_VERIFICATION_TTL;
      const { token } = await this.tokens.issue(manager, {
        userId: user.id,
        purpose: 'email_change',
        email: address,
        ttlSeconds: ttl,
      });
      await this.mail.enqueue(manager, address, 'confirm-new-email', {
        link: this.mail.link(ACCOUNT_LINK_PATHS.confirmEmailChange, token),
        validFor: inWords(ttl),
      });
      await this.audit.record(
        { type: 'email.change_requested', userId: user.id, ...origin },
        manager,
      );
    });
    this.metrics.count('email_change_requested');
  }

  /**
   * Follows the new address's link: the account takes it, verified.
   * @throws InvalidAccountTokenException, EmailTakenException (taken meanwhile)
   */
  async confirm(token: string, origin: RequestOrigin): Promise<User> {
    const changed = await this.switchAddress(
      'email_change',
      token,
      async (manager, user, spent) => {
        const ttl = this.environment.EMAIL_CHANGE_UNDO_TTL;
        const undo = await this.tokens.issue(manager, {
          userId: user.id,
          purpose: 'email_change_undo',
          email: user.email,
          ttlSeconds: ttl,
        });
        await this.mail.enqueue(manager, user.email, 'email-changed', {
          newEmail: spent,
          link: this.mail.link(ACCOUNT_LINK_PATHS.undoEmailChange, undo.token),
          validFor: inWords(ttl),
        });
        await this.audit.record(
          { type: 'email.changed', userId: user.id, ...origin, detail: { undoable: true } },
          manager,
        );
      },
    );
    this.metrics.count('email_changed');
    return changed;
  }

  /**
   * Follows the old address's undo link: the account goes back to it, and every session ends
   * (whoever changed the address may hold one).
   * @throws InvalidAccountTokenException, EmailTakenException (the old address was taken since)
   */
  async undo(token: string, origin: RequestOrigin): Promise<User> {
    const restored = await this.switchAddress('email_change_undo', token, async (manager, user) => {
      await this.audit.record({ type: 'email.change_undone', userId: user.id, ...origin }, manager);
    });
    const ended = await this.sessions.revokeAllForUser(restored.id, 'logout_all');
    await this.audit.record({
      type: 'session.revoked',
      userId: restored.id,
      ...origin,
      detail: { reason: 'email_change_undone', sessions: ended },
    });
    this.metrics.count('email_change_undone');
    return restored;
  }

  /** Spends the token and gives its account the token's address, verified; then `after`. */
  private async switchAddress(
    purpose: AccountTokenPurpose,
    token: string,
    after: (manager: EntityManager, previous: User, address: string) => Promise<void>,
  ): Promise<User> {
    try {
      const user = await this.dataSource.transaction(async (manager) => {
        const spent = await this.tokens.spend(manager, purpose, token);
        const user = spent && (await manager.findOneBy(User, { id: spent.userId }));
        if (!spent || !user || user.disabledAt) return undefined;
        const previous = Object.assign(new User(), user);
        await manager.update(
          User,
          { id: user.id },
          { email: spent.email, emailVerifiedAt: this.clock.now() },
        );
        // Links mailed to the address the account no longer has die with it.
        await this.tokens.revoke(manager, user.id, [
          'email_verification',
          'password_reset',
          'email_change',
          ...(purpose === 'email_change_undo' ? (['email_change_undo'] as const) : []),
        ]);
        await after(manager, previous, spent.email);
        return Object.assign(user, { email: spent.email });
      });
      if (user) return user;
    } catch (error) {
      if (
        error instanceof QueryFailedError &&
        (error.driverError as { code?: string }).code === UNIQUE_VIOLATION
      ) {
        throw new EmailTakenException();
      }
      throw error;
    }
    this.metrics.count('token_refused');
    await this.audit.record({ type: 'account.token_refused', detail: { purpose } });
    throw new InvalidAccountTokenException();
  }
}
