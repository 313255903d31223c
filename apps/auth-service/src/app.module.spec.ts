import { createTestApplication } from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { authServiceConfig } from './config/auth-service.config';
import { User } from './users/user.entity';

describe('auth-service on real PostgreSQL', () => {
  let service: TestApplication;
  let dataSource: DataSource;

  beforeAll(async () => {
    service = await createTestApplication(AppModule, authServiceConfig);
    dataSource = service.app.get(DataSource);
  });
  afterAll(() => service.close());

  it('is ready once its migrations have run', async () => {
    const response = await fetch(`${service.url}/health/ready`);
    expect(response.status).toBe(200);
    expect(await dataSource.showMigrations()).toBe(false);
  });

  it('stores a user with the default role', async () => {
    const users = dataSource.getRepository(User);
    const saved = await users.save(users.create({ email: 'ada@example.com', passwordHash: 'x' }));
    const found = await users.findOneByOrFail({ id: saved.id });
    expect(found.roles).toEqual(['user']);
    expect(found.disabledAt).toBeNull();
  });

  it('refuses a second account with the same email', async () => {
    const users = dataSource.getRepository(User);
    await users.save(users.create({ email: 'grace@example.com', passwordHash: 'x' }));
    await expect(
      users.save(users.create({ email: 'grace@example.com', passwordHash: 'y' })),
    ).rejects.toThrow(/users_email_unique/);
  });

  it('refuses an email that was not normalised, so the unique index cannot be bypassed by case', async () => {
    const users = dataSource.getRepository(User);
    await expect(
      users.save(users.create({ email: 'Grace@Example.com', passwordHash: 'x' })),
    ).rejects.toThrow(/users_email_normalised/);
  });
});
