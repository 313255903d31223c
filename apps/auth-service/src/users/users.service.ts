import { Injectable, Logger, Optional } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { QueryFailedError, Repository } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { Clock } from '@tessera/auth-token';
import { AuditService } from '../audit/audit.service';
import { DomainEvents } from '../events/domain-events';
import { LoginThrottle } from '../login/login-throttle.service';
import { normaliseEmail } from './normalise-email';
import { PasswordHasher } from './password-hasher';
import { PasswordPolicy } from './password-policy';
import { User } from './user.entity';
import {
  EmailTakenException,
  UnsupportedEmailException,
  UserNotFoundException,
  WeakPasswordException,
  WrongCurrentPasswordException,
} from './users.errors';

/** Where a request came from, for the audit log. */
export interface RequestOrigin {
  clientAddress?: string;
  userAgent?: string;
}

/**
 * What else a registration does, in its transaction, once the account is inserted: e.g. the
 * verification mail (account/), an event (the outbox). Registered with
 * `UsersService.onRegistration()` by the feature that owns it, so users/ imports none of them.
 */
export type RegistrationStep = (user: User, manager: EntityManager) => Promise<void>;

const UNIQUE_VIOLATION = '23505';
const CHECK_VIOLATION = '23514';

@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);
  private readonly registrationSteps: RegistrationStep[] = [];

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly audit: AuditService,
    private readonly throttle: LoginThrottle,
    private readonly clock: Clock,
    @Optional() private readonly events?: DomainEvents,
  ) {}

  /**
   * Creates an account with the default role; 400 for a weak password, 409 for a taken email.
   * With a client address (every HTTP registration) it is throttled first: 429 past
   * REGISTRATION_ADDRESS_LIMIT per hour from that address group, before any hashing, for a new
   * email and a taken one alike.
   */
  async register(email: string, password: string, origin: RequestOrigin = {}): Promise<User> {
    const normalised = normaliseEmail(email);
    this.policy.enforce(password, normalised);
    if (origin.clientAddress !== undefined) {
      await this.throttle.beginRegistration(origin.clientAddress, this.clock.now());
    }
    const passwordHash = await this.hasher.hash(password);
    // No "does it exist?" query first: two concurrent registrations would both pass it. The
    // unique index decides, and its violation becomes the 409.
    const user = await this.insert(normalised, passwordHash);
    await this.audit.record({ type: 'user.registered', userId: user.id, ...origin });
    return user;
  }

  /** Adds a step every registration takes in its transaction (RegistrationStep). */
  onRegistration(step: RegistrationStep): void {
    this.registrationSteps.push(step);
  }

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  findByEmail(email: string): Promise<User | null> {
    return this.users.findOneBy({ email: normaliseEmail(email) });
  }

  /**
   * Checks the current password, applies the policy to the new one and stores its hash. The
   * caller revokes the user's other sessions and records `password.changed`.
   */
  async changePassword(userId: string, current: string, next: string): Promise<void> {
    const user = await this.findById(userId);
    if (!user) throw new UserNotFoundException();
    if (!(await this.hasher.verify(user.passwordHash, current))) {
      throw new WrongCurrentPasswordException();
    }
    this.policy.enforce(next, user.email);
    if (await this.hasher.verify(user.passwordHash, next)) {
      throw new WeakPasswordException('The new password must differ from the current one');
    }
    await this.users.update({ id: userId }, { passwordHash: await this.hasher.hash(next) });
  }

  /** After a successful login: re-hash with today's parameters if the stored hash is older. */
  async upgradePasswordHash(user: User, password: string): Promise<void> {
    if (!this.hasher.needsRehash(user.passwordHash)) return;
    user.passwordHash = await this.hasher.hash(password);
    await this.users.update({ id: user.id }, { passwordHash: user.passwordHash });
  }

  /**
   * Stops the account from logging in; the caller revokes its sessions (F9). Idempotent. Records
   * `user.disabled` in the same transaction (published when NATS_URL is set, docs/events.md).
   */
  async disable(userId: string): Promise<void> {
    await this.users.manager.transaction(async (manager) => {
      const result = await manager
        .createQueryBuilder()
        .update(User)
        .set({ disabledAt: () => 'coalesce(disabled_at, now())' })
        .where({ id: userId })
        .execute();
      if (result.affected === 0) throw new UserNotFoundException();
      await this.events?.record(manager, 'user.disabled', {
        user_id: userId,
        disabled_at: Math.floor(this.clock.now().getTime() / 1000),
      });
    });
  }

  /**
   * Replaces the roles of an account, e.g. from a one-off script to make the first admin:
   * `await app.get(UsersService).setRoles('ada@example.com', ['user', 'admin'])`.
   * Roles reach access tokens at the next login or refresh.
   */
  async setRoles(email: string, roles: string[]): Promise<User> {
    const user = await this.findByEmail(email);
    if (!user) throw new UserNotFoundException();
    user.roles = [...new Set(roles.map((role) => role.trim()).filter(Boolean))];
    await this.users.update({ id: user.id }, { roles: user.roles });
    this.logger.log(`Roles of user ${user.id} set to ${user.roles.join(', ') || '(none)'}`);
    return user;
  }

  private async insert(email: string, passwordHash: string): Promise<User> {
    try {
      return await this.users.manager.transaction(async (manager) => {
        const user = await manager.save(manager.create(User, { email, passwordHash }));
        for (const step of this.registrationSteps) await step(user, manager);
        return user;
      });
    } catch (error) {
      const code = postgresCodeOf(error);
      if (code === UNIQUE_VIOLATION) throw new EmailTakenException();
      // JavaScript and PostgreSQL may lower-case some non-ASCII letters differently.
      if (code === CHECK_VIOLATION) throw new UnsupportedEmailException();
      throw error;
    }
  }
}

function postgresCodeOf(error: unknown): string | undefined {
  if (!(error instanceof QueryFailedError)) return undefined;
  const code = (error.driverError as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
