import { createFeatureTestApplication } from '../feature-test-application.spec-helper';
import { Reflector } from '@nestjs/core';
import { IS_PUBLIC_KEY } from '@tessera/auth-token';
import type { TestApplication } from '@tessera/platform-testing';
import { DataSource } from 'typeorm';
import { AuditEvent } from '../audit/audit-event.entity';
import { PasswordHasher } from './password-hasher';
import { User } from './user.entity';
import { UsersController } from './users.controller';
import { UsersModule } from './users.module';

describe('POST /auth/register', () => {
  let service: TestApplication;
  let dataSource: DataSource;

  beforeAll(async () => {
    // X-Forwarded-For from the test itself is believed, so a test can come from its own address.
    service = await createFeatureTestApplication(
      { imports: [UsersModule] },
      { TRUST_PROXY: 'loopback' },
    );
    dataSource = service.app.get(DataSource);
  });
  afterAll(() => service.close());

  const register = (body: unknown, from?: string) =>
    fetch(`${service.url}/auth/register`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'jest',
        ...(from && { 'x-forwarded-for': from }),
      },
      body: JSON.stringify(body),
    });

  async function messageOf(response: Response): Promise<string> {
    return ((await response.json()) as { message: string }).message;
  }

  it('is open to callers without a token', () => {
    const isPublic = new Reflector().get<boolean>(
      IS_PUBLIC_KEY,
      UsersController.prototype.register,
    );
    expect(isPublic).toBe(true);
  });

  it('creates an account and answers 201 with its id and normalised email only', async () => {
    const response = await register({ email: '  Ada@Example.COM ', password: 'analytical engine' });
    expect(response.status).toBe(201);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['email', 'id']);
    expect(body['email']).toBe('ada@example.com');
    const user = await dataSource.getRepository(User).findOneByOrFail({ id: body['id'] as string });
    expect(user.roles).toEqual(['user']);
  });

  it('stores an argon2id hash with m=19456, t=2, p=1 and never the password', async () => {
    const response = await register({ email: 'hash@example.com', password: 'analytical engine' });
    const { id } = (await response.json()) as { id: string };
    const user = await dataSource.getRepository(User).findOneByOrFail({ id });
    expect(user.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(user.passwordHash).not.toContain('analytical engine');
  });

  it('records user.registered in the audit log without the password', async () => {
    const response = await register({
      email: 'audited@example.com',
      password: 'analytical engine',
    });
    const { id } = (await response.json()) as { id: string };
    const events = await dataSource.getRepository(AuditEvent).findBy({ userId: id });
    expect(events.map((event) => event.type)).toEqual(['user.registered']);
    expect(events[0].userAgent).toBe('jest');
    expect(JSON.stringify(events)).not.toContain('analytical engine');
  });

  it('answers 409 for an email that already has an account, whatever its case or spaces', async () => {
    expect((await register({ email: 'grace@example.com', password: 'compiler one' })).status).toBe(
      201,
    );
    for (const email of ['grace@example.com', 'GRACE@Example.com', '  grace@example.com\t']) {
      const response = await register({ email, password: 'compiler two' });
      expect(response.status).toBe(409);
      expect(await messageOf(response)).toBe('An account with this email already exists');
    }
  });

  it('creates one account when the same email registers twice at once', async () => {
    const responses = await Promise.all(
      Array.from({ length: 4 }, () =>
        register({ email: 'race@example.com', password: 'photo finish' }),
      ),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([201, 409, 409, 409]);
  });

  it('accepts an 8-character and a 64-character password', async () => {
    expect((await register({ email: 'eight@example.com', password: 'tangeri8' })).status).toBe(201);
    const sixtyFour = 'correct horse battery staple '.repeat(3).slice(0, 64);
    expect((await register({ email: 'sixty-four@example.com', password: sixtyFour })).status).toBe(
      201,
    );
  });

  it.each([
    [
      'a 7-character password',
      'kiwi-77',
      /^Password must be at least 8 characters long \(it has 7\)/,
    ],
    ['an empty password', '', /^Password must be at least 8 characters long \(it has 0\)/],
    [
      'a 300-character password',
      'ab'.repeat(150),
      /^Password must be at most 256 characters long \(it has 300\)$/,
    ],
    ['a common password', 'Password1', /^This password is one of the most common ones/],
    ['the email as the password', 'weak@example.com', /^Password must not be your email address$/],
  ])(
    'refuses %s with 400 and a message saying what to change',
    async (_name, password, message) => {
      const response = await register({ email: 'weak@example.com', password });
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: string; message: string };
      expect(body.error).toBe('weak_password');
      expect(body.message).toMatch(message);
    },
  );

  it.each([
    [
      'an unknown field',
      { email: 'x@example.com', password: 'analytical engine', role: 'admin' },
      /property role should not exist/,
    ],
    [
      'a malformed email',
      { email: 'not-an-email', password: 'analytical engine' },
      /email must be an email address/,
    ],
    ['a missing password', { email: 'x@example.com' }, /password must be a string/],
    [
      'a password that is not a string',
      { email: 'x@example.com', password: 12345678 },
      /password must be a string/,
    ],
    [
      'an email longer than 254 characters',
      {
        email: `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com`,
        password: 'analytical engine',
      },
      /email must be at most 254 characters long/,
    ],
  ])('refuses %s with 400 and creates nothing', async (_name, body, message) => {
    const response = await register(body);
    expect(response.status).toBe(400);
    expect(await messageOf(response)).toMatch(message);
    await expect(dataSource.getRepository(User).countBy({ email: 'x@example.com' })).resolves.toBe(
      0,
    );
  });

  it('answers 400, not 500, for malformed JSON', async () => {
    const response = await fetch(`${service.url}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"email": ',
    });
    expect(response.status).toBe(400);
  });

  describe('throttling (REGISTRATION_ADDRESS_LIMIT, 20 an hour by default)', () => {
    const LIMIT = 20;
    afterEach(() => jest.restoreAllMocks());
    const statusOf = async (email: string, from: string, password = 'a long passphrase') =>
      (await register({ email, password }, from)).status;

    it('lets a burst from one /64 hash at most the limit, new and taken emails alike, then 429 with Retry-After', async () => {
      expect(await statusOf('taken@example.com', '192.0.2.1')).toBe(201);
      // Counted, not run: the property is how many argon2 hashes the requests get.
      const hash = jest.spyOn(service.app.get(PasswordHasher), 'hash').mockResolvedValue('x');
      // A new address of the same /64 per request, new and taken emails alike.
      const emailOf = (index: number) =>
        index % 2 ? 'taken@example.com' : `burst${index}@example.com`;
      for (let index = 0; index < LIMIT - 6; index += 1) {
        expect([201, 409]).toContain(await statusOf(emailOf(index), `2001:db8:1:2::${index + 1}`));
      }
      // Ten at once for the last six of the hour's budget (ten: the pool's connections, so none
      // waits for one): simultaneous requests may refuse one another, never admit too many.
      const statuses = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          statusOf(emailOf(index + 50), `2001:db8:1:2::a${index}`),
        ),
      );
      expect(hash.mock.calls.length).toBeLessThanOrEqual(LIMIT);
      expect(statuses.filter((status) => status !== 429)).toHaveLength(
        hash.mock.calls.length - (LIMIT - 6),
      );
      expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(4);

      // One at a time, the rest of the budget and not one more.
      for (let index = hash.mock.calls.length; index < LIMIT; index += 1) {
        expect([201, 409]).toContain(await statusOf(emailOf(index + 100), '2001:db8:1:2::fe'));
      }
      expect(hash).toHaveBeenCalledTimes(LIMIT);
      for (const email of ['taken@example.com', 'fresh@example.com']) {
        const refused = await register(
          { email, password: 'a long passphrase' },
          '2001:db8:1:2::ff',
        );
        expect(refused.status).toBe(429);
        const retryAfter = Number(refused.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(3600);
        expect(await refused.json()).toEqual({
          requestId: expect.any(String),
          statusCode: 429,
          error: 'too_many_registrations',
          message: `Too many registrations from this address; try again in ${retryAfter} seconds`,
        });
      }
      expect(hash).toHaveBeenCalledTimes(LIMIT);
      // Another /64 is not held back.
      expect(await statusOf('elsewhere@example.com', '2001:db8:1:3::1')).toBe(201);
    });

    it('does not count requests refused before hashing (a weak password)', async () => {
      for (let index = 0; index < LIMIT + 2; index += 1) {
        expect(await statusOf('weakling@example.com', '198.51.100.7', 'short')).toBe(400);
      }
      expect(await statusOf('weakling@example.com', '198.51.100.7')).toBe(201);
    });
  });
});
