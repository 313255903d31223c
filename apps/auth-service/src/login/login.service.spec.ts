import { createFeatureTestApplication } from '../feature-test-application.spec-helper';
import { Body, Controller, Post } from '@nestjs/common';
import { Public } from '@tessera/auth-token';
import type { TestApplication } from '@tessera/platform-testing';
import { IsString } from 'class-validator';
import { DataSource } from 'typeorm';
import { performance } from 'node:perf_hooks';
import { AuditEvent } from '../audit/audit-event.entity';
import { UsersService } from '../users/users.service';
import { Clock } from '@tessera/auth-token';
import { InvalidCredentialsException } from './login.errors';
import { LoginModule } from './login.module';
import { LoginService } from './login.service';

const ACCOUNT_LIMIT = 3;
const ADDRESS_LIMIT = 5;
const WINDOW = 600;

class TestLoginDto {
  @IsString() email!: string;
  @IsString() password!: string;
  @IsString() clientAddress!: string;
}

/** Only for this spec: LoginService's answers through the real error filter, over HTTP. */
@Controller('test')
class TestLoginController {
  constructor(private readonly loginService: LoginService) {}

  @Public()
  @Post('login')
  async login(@Body() body: TestLoginDto): Promise<{ id: string }> {
    const user = await this.loginService.authenticate({ ...body, userAgent: 'jest' });
    return { id: user.id };
  }
}

describe('LoginService on real PostgreSQL', () => {
  let service: TestApplication;
  let login: LoginService;
  let users: UsersService;
  let dataSource: DataSource;
  let now: Date;

  beforeAll(async () => {
    service = await createFeatureTestApplication(
      { imports: [LoginModule], controllers: [TestLoginController] },
      {
        LOGIN_ACCOUNT_FAILURE_LIMIT: String(ACCOUNT_LIMIT),
        LOGIN_ADDRESS_FAILURE_LIMIT: String(ADDRESS_LIMIT),
        LOGIN_THROTTLE_WINDOW: String(WINDOW),
      },
    );
    login = service.app.get(LoginService);
    users = service.app.get(UsersService);
    dataSource = service.app.get(DataSource);
    jest.spyOn(service.app.get(Clock), 'now').mockImplementation(() => now);
  });
  beforeEach(() => (now = new Date('2030-01-01T12:00:00Z')));
  afterAll(() => service.close());

  const later = (seconds: number) => (now = new Date(now.getTime() + seconds * 1000));

  const attempt = (email: string, password: string, clientAddress: string) =>
    fetch(`${service.url}/test/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password, clientAddress }),
    });

  async function failTimes(times: number, email: string, clientAddress: string): Promise<void> {
    for (let i = 0; i < times; i++) {
      expect((await attempt(email, 'not the password', clientAddress)).status).toBe(401);
    }
  }

  it('returns the user for the right password, whatever the case and spaces of the email', async () => {
    const user = await users.register('ada@example.com', 'analytical engine');
    const found = await login.authenticate({
      email: ' ADA@example.com',
      password: 'analytical engine',
      clientAddress: '192.0.2.1',
    });
    expect(found.id).toBe(user.id);
  });

  it('answers an unknown email, a wrong password and a disabled account with the same 401 body', async () => {
    await users.register('known@example.com', 'analytical engine');
    const disabled = await users.register('disabled@example.com', 'analytical engine');
    await users.disable(disabled.id);

    const responses = [
      await attempt('nobody@example.com', 'analytical engine', '192.0.2.2'),
      await attempt('known@example.com', 'wrong password', '192.0.2.2'),
      await attempt('disabled@example.com', 'analytical engine', '192.0.2.2'),
    ];
    const bodies = await Promise.all(
      responses.map(async (response) => {
        const body = (await response.json()) as Record<string, unknown>;
        expect(body['requestId']).toEqual(expect.any(String)); // differs per request, by design
        delete body['requestId'];
        return { status: response.status, ...body };
      }),
    );
    expect(bodies).toEqual(
      Array(3).fill({
        status: 401,
        statusCode: 401,
        error: 'invalid_credentials',
        message: 'The email or password is not correct',
      }),
    );
  });

  it('throws InvalidCredentialsException for both an unknown email and a wrong password', async () => {
    await users.register('same@example.com', 'analytical engine');
    await expect(
      login.authenticate({ email: 'other@example.com', password: 'x', clientAddress: '192.0.2.3' }),
    ).rejects.toThrow(InvalidCredentialsException);
    await expect(
      login.authenticate({ email: 'same@example.com', password: 'x', clientAddress: '192.0.2.3' }),
    ).rejects.toThrow(InvalidCredentialsException);
  });

  // Skipping the dummy hash for an unknown email gives a ratio of 0.14 here (measured), so a 1.5x
  // bound still catches that leak, while a loaded CI machine's noise (one run measured 0.83
  // against the 1.2x bound this test had) does not fail it.
  it('takes as long for an unknown email as for a wrong password (medians within 1.5x)', async () => {
    await users.register('timing@example.com', 'analytical engine');
    const time = async (email: string): Promise<number> => {
      later(WINDOW); // every failure has left the window: the throttle stays out of the way
      const start = performance.now();
      await expect(
        login.authenticate({ email, password: 'wrong password', clientAddress: '192.0.2.4' }),
      ).rejects.toThrow(InvalidCredentialsException);
      return performance.now() - start;
    };
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < 15; i++) {
      unknown.push(await time('timing-unknown@example.com'));
      wrong.push(await time('timing@example.com'));
    }
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const ratio = median(unknown) / median(wrong);
    expect(ratio).toBeGreaterThan(1 / 1.5);
    expect(ratio).toBeLessThan(1.5);
  });

  it('answers 429 with Retry-After once the account has failed its limit, even for the right password', async () => {
    await users.register('target@example.com', 'analytical engine');
    await failTimes(ACCOUNT_LIMIT, 'target@example.com', '198.51.100.1');
    later(60);
    const response = await attempt('target@example.com', 'analytical engine', '198.51.100.2');
    expect(response.status).toBe(429);
    // The oldest failure leaves the window 600 s after it happened, 60 s ago.
    expect(response.headers.get('retry-after')).toBe(String(WINDOW - 60));
    const body = (await response.json()) as { error: string; message: string };
    expect(body.error).toBe('too_many_login_attempts');
    expect(body.message).toBe(`Too many failed logins; try again in ${WINDOW - 60} seconds`);
  });

  it('does not lengthen a lock-out when attempts keep arriving while throttled', async () => {
    await users.register('hammered@example.com', 'analytical engine');
    await failTimes(ACCOUNT_LIMIT, 'hammered@example.com', '198.51.100.3');
    for (let i = 0; i < 5; i++) {
      later(60);
      expect((await attempt('hammered@example.com', 'guess', '198.51.100.3')).status).toBe(429);
    }
    later(WINDOW - 300);
    expect(
      (await attempt('hammered@example.com', 'analytical engine', '198.51.100.3')).status,
    ).toBe(201);
  });

  it('lets the user log in again once the window has passed', async () => {
    await users.register('patient@example.com', 'analytical engine');
    await failTimes(ACCOUNT_LIMIT, 'patient@example.com', '198.51.100.4');
    later(WINDOW - 1);
    const locked = await attempt('patient@example.com', 'analytical engine', '198.51.100.4');
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toBe('1');
    later(1);
    expect((await attempt('patient@example.com', 'analytical engine', '198.51.100.4')).status).toBe(
      201,
    );
  });

  it("does not clear another address's failures when the user logs in from their own", async () => {
    await users.register('shared@example.com', 'analytical engine');
    await failTimes(ACCOUNT_LIMIT - 2, 'shared@example.com', '203.0.113.66'); // the attacker
    await failTimes(1, 'shared@example.com', '203.0.113.10'); // the user mistypes once
    expect((await attempt('shared@example.com', 'analytical engine', '203.0.113.10')).status).toBe(
      201,
    );

    const remaining = await dataSource.query(
      `SELECT address FROM login_failures WHERE account = $1`,
      ['shared@example.com'],
    );
    expect(remaining).toEqual(Array(ACCOUNT_LIMIT - 2).fill({ address: '203.0.113.66' }));
    // The attacker's budget was not reset: two more failures (not three) and the account is throttled.
    await failTimes(2, 'shared@example.com', '203.0.113.66');
    expect((await attempt('shared@example.com', 'guess', '203.0.113.66')).status).toBe(429);
  });

  it('throttles an address that fails across many accounts, while others still get in', async () => {
    await users.register('bystander@example.com', 'analytical engine');
    for (let i = 0; i < ADDRESS_LIMIT; i++) {
      expect((await attempt(`victim-${i}@example.com`, 'guess', '203.0.113.99')).status).toBe(401);
    }
    const response = await attempt('victim-new@example.com', 'guess', '203.0.113.99');
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(response.headers.get('retry-after'))).toBeLessThanOrEqual(WINDOW);
    expect(
      (await attempt('bystander@example.com', 'analytical engine', '203.0.113.100')).status,
    ).toBe(201);
  });

  it('lets no more than the limit through when many attempts arrive at once', async () => {
    const responses = await Promise.all(
      Array.from({ length: 12 }, () => attempt('burst@example.com', 'guess', '203.0.113.120')),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(ACCOUNT_LIMIT);
    expect(statuses.filter((status) => status !== 401).every((status) => status === 429)).toBe(
      true,
    );
  });

  it('records successes, failures and throttling in the audit log, without the password', async () => {
    const user = await users.register('audit@example.com', 'analytical engine');
    await attempt('audit@example.com', 'analytical engine', '203.0.113.200');
    await failTimes(ACCOUNT_LIMIT, 'audit@example.com', '203.0.113.200');
    await attempt('audit@example.com', 'analytical engine', '203.0.113.200');

    const events = await dataSource.getRepository(AuditEvent).find({
      where: [{ userId: user.id }, { clientAddress: '203.0.113.200', type: 'login.throttled' }],
      order: { occurredAt: 'ASC' },
    });
    expect(events.map((event) => [event.type, event.detail?.['reason'] ?? null])).toEqual([
      ['user.registered', null],
      ['login.succeeded', null],
      ['login.failed', 'wrong_password'],
      ['login.failed', 'wrong_password'],
      ['login.failed', 'wrong_password'],
      ['login.throttled', null],
    ]);
    expect(events[5].detail).toEqual({ retryAfterSeconds: WINDOW });
    expect(JSON.stringify(events)).not.toContain('analytical engine');
  });
});
