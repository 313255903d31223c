import { createFeatureTestApplication } from '../feature-test-application.spec-helper';
import type { TestApplication } from '@tessera/platform-testing';
import { DataSource } from 'typeorm';
import { PasswordHasher } from './password-hasher';
import { User } from './user.entity';
import {
  EmailTakenException,
  UserNotFoundException,
  WeakPasswordException,
  WrongCurrentPasswordException,
} from './users.errors';
import { UsersModule } from './users.module';
import { UsersService } from './users.service';

describe('UsersService on real PostgreSQL', () => {
  let service: TestApplication;
  let users: UsersService;
  let hasher: PasswordHasher;

  beforeAll(async () => {
    service = await createFeatureTestApplication({ imports: [UsersModule] });
    users = service.app.get(UsersService);
    hasher = service.app.get(PasswordHasher);
  });
  afterAll(() => service.close());

  const stored = (id: string) =>
    service.app.get(DataSource).getRepository(User).findOneByOrFail({ id });

  const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

  it('refuses a second registration of the same email with EmailTakenException', async () => {
    await users.register('twice@example.com', 'first password');
    await expect(users.register(' Twice@example.com', 'second password')).rejects.toThrow(
      EmailTakenException,
    );
  });

  it('changes the password when the current one is right, after which only the new one works', async () => {
    const user = await users.register('change@example.com', 'old and tired');
    await users.changePassword(user.id, 'old and tired', 'new and shiny');
    const saved = await stored(user.id);
    await expect(hasher.verify(saved.passwordHash, 'new and shiny')).resolves.toBe(true);
    await expect(hasher.verify(saved.passwordHash, 'old and tired')).resolves.toBe(false);
  });

  it('refuses a password change when the current password is wrong, and keeps the old hash', async () => {
    const user = await users.register('wrong-current@example.com', 'old and tired');
    await expect(users.changePassword(user.id, 'not my password', 'new and shiny')).rejects.toThrow(
      WrongCurrentPasswordException,
    );
    const saved = await stored(user.id);
    expect(saved.passwordHash).toBe(user.passwordHash);
  });

  it('applies the policy to the new password and refuses reusing the current one', async () => {
    const user = await users.register('policy@example.com', 'old and tired');
    await expect(users.changePassword(user.id, 'old and tired', 'qwerty123')).rejects.toThrow(
      /most common/,
    );
    await expect(users.changePassword(user.id, 'old and tired', 'old and tired')).rejects.toThrow(
      WeakPasswordException,
    );
  });

  it('refuses a password change for a user that does not exist', async () => {
    await expect(users.changePassword(UNKNOWN_ID, 'a', 'new and shiny')).rejects.toThrow(
      UserNotFoundException,
    );
  });

  it('disables an account once, keeping the first time it was disabled', async () => {
    const user = await users.register('disable@example.com', 'soon to be gone');
    await users.disable(user.id);
    const first = (await stored(user.id)).disabledAt;
    expect(first).toBeInstanceOf(Date);
    await users.disable(user.id);
    expect((await stored(user.id)).disabledAt).toEqual(first);
    await expect(users.disable(UNKNOWN_ID)).rejects.toThrow(UserNotFoundException);
  });

  it('sets the roles of an account found by email, trimming and deduplicating them', async () => {
    const user = await users.register('admin@example.com', 'root of all trust');
    await users.setRoles(' ADMIN@example.com', ['user', ' admin', 'admin', '']);
    expect((await stored(user.id)).roles).toEqual(['user', 'admin']);
    await expect(users.setRoles('nobody@example.com', ['admin'])).rejects.toThrow(
      UserNotFoundException,
    );
  });
});
