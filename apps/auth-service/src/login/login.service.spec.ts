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

const ACCOUNT_LIMIT = 10;
const PAIR_LIMIT = 3;
const ADDRESS_LIMIT = 20;
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
        LOGIN_PAIR_FAILURE_LIMIT: String(PAIR_LIMIT),
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
  // against the 1.2x bound this test had) does not fail it. Up to three rounds, passing on the
  // first within the bound: a CI run beside other suites once measured 1.55 in one round, and
  // neighbours rarely skew three rounds running, while a leak skews every one.
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
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const round = async () => {
      const unknown: number[] = [];
      const wrong: number[] = [];
      for (let i = 0; i < 15; i++) {
        unknown.push(await time('timing-unknown@example.com'));
        wrong.push(await time('timing@example.com'));
      }
      return median(unknown) / median(wrong);
    };
    const within = (ratio: number) => ratio > 1 / 1.5 && ratio < 1.5;
    const ratios: number[] = [];
    while (ratios.length < 3 && !within(ratios.at(-1) ?? 0)) ratios.push(await round());
    const last = ratios.at(-1) ?? 0;
    expect({ ratios, within: within(last) }).toEqual({ ratios, within: true });
  });

  /** Fails until `times` failures are in, waiting out every 429 as a patient attacker would. */
  async function failPatiently(times: number, email: string, address: (i: number) => string) {
    let failures = 0;
    let refusals = 0;
    while (failures < times) {
      const response = await attempt(email, 'guess', address(failures));
      if (response.status === 429) {
        refusals++;
        later(Number(response.headers.get('retry-after')));
        continue;
      }
      expect(response.status).toBe(401);
      failures++;
    }
    return refusals;
  }

  it("does not let a stranger's 50 failures stop the owner signing in from their own address", async () => {
    await users.register('owner@example.com', 'analytical engine');
    expect((await attempt('owner@example.com', 'analytical engine', '192.0.2.50')).status).toBe(
      201,
    );

    const refusals = await failPatiently(50, 'owner@example.com', () => '198.51.100.50');
    expect(refusals).toBeGreaterThan(0); // the stranger was slowed down all along
    expect((await attempt('owner@example.com', 'analytical engine', '192.0.2.50')).status).toBe(
      201,
    );
  });

  it('slows, never locks, the owner at a new address while strangers from many addresses hammer the account', async () => {
    await users.register('crowded@example.com', 'analytical engine');
    await failPatiently(50, 'crowded@example.com', (i) => `198.51.100.${100 + i}`);

    const first = await attempt('crowded@example.com', 'analytical engine', '192.0.2.51');
    const spacing = Math.ceil(3600 / ACCOUNT_LIMIT);
    if (first.status === 429) {
      expect(Number(first.headers.get('retry-after'))).toBeLessThanOrEqual(spacing);
      later(Number(first.headers.get('retry-after')));
    } else {
      expect(first.status).toBe(201);
    }
    expect((await attempt('crowded@example.com', 'analytical engine', '192.0.2.51')).status).toBe(
      201,
    );
  });

  it('keeps the failures of strangers beyond the account ceiling to one per hour / ceiling', async () => {
    await users.register('ceiling@example.com', 'analytical engine');
    for (let i = 0; i < ACCOUNT_LIMIT; i++) {
      expect((await attempt('ceiling@example.com', 'guess', `192.0.2.${150 + i}`)).status).toBe(
        401,
      );
    }
    const spacing = Math.ceil(3600 / ACCOUNT_LIMIT);
    const slowed = await attempt('ceiling@example.com', 'guess', '192.0.2.190');
    expect(slowed.status).toBe(429);
    expect(slowed.headers.get('retry-after')).toBe(String(spacing));
    later(spacing);
    expect((await attempt('ceiling@example.com', 'guess', '192.0.2.191')).status).toBe(401);
    expect((await attempt('ceiling@example.com', 'guess', '192.0.2.192')).status).toBe(429);
  });

  it('slows one (account, address) pair with doubling delays once its free failures are spent', async () => {
    await users.register('paired@example.com', 'analytical engine');
    await failTimes(PAIR_LIMIT, 'paired@example.com', '198.51.100.7');
    const delays: string[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await attempt('paired@example.com', 'guess', '198.51.100.7');
      expect(response.status).toBe(429);
      const body = (await response.json()) as { error: string; message: string };
      expect(body.error).toBe('too_many_login_attempts');
      delays.push(response.headers.get('retry-after') ?? '');
      later(Number(response.headers.get('retry-after')));
      expect((await attempt('paired@example.com', 'guess', '198.51.100.7')).status).toBe(401);
    }
    expect(delays).toEqual(['10', '20', '40', '80']);
    // Hammering while refused does not lengthen the wait: refused attempts are not counted.
    for (let i = 0; i < 5; i++) {
      later(10);
      expect((await attempt('paired@example.com', 'guess', '198.51.100.7')).status).toBe(429);
    }
    later(110);
    expect((await attempt('paired@example.com', 'analytical engine', '198.51.100.7')).status).toBe(
      201,
    );
  });

  it('counts every address of one IPv6 /64 as one address, and keeps other /64s apart', async () => {
    await users.register('v6@example.com', 'analytical engine');
    // One attacker walking through their /64: the pair limit still sees one address...
    await failTimes(PAIR_LIMIT, 'v6@example.com', '2001:db8:0:1::1');
    const walked = await attempt('v6@example.com', 'guess', '2001:db8:0:1:ffff::99');
    expect(walked.status).toBe(429);
    // ...and the address limit across accounts too.
    for (let i = 0; i < ADDRESS_LIMIT - PAIR_LIMIT; i++) {
      expect(
        (await attempt(`v6-victim-${i}@example.com`, 'guess', `2001:db8:0:1::${i + 100}`)).status,
      ).toBe(401);
    }
    expect((await attempt('v6-other@example.com', 'guess', '2001:db8:0:1:abcd::1')).status).toBe(
      429,
    );
    // The neighbouring /64 is someone else.
    expect((await attempt('v6@example.com', 'analytical engine', '2001:db8:0:2::1')).status).toBe(
      201,
    );
  });

  it("does not clear another address's failures when the user logs in from their own", async () => {
    await users.register('shared@example.com', 'analytical engine');
    await failTimes(PAIR_LIMIT - 1, 'shared@example.com', '203.0.113.66'); // the attacker
    await failTimes(1, 'shared@example.com', '203.0.113.10'); // the user mistypes once
    expect((await attempt('shared@example.com', 'analytical engine', '203.0.113.10')).status).toBe(
      201,
    );

    const remaining = await dataSource.query(
      `SELECT address FROM login_failures WHERE account = $1`,
      ['shared@example.com'],
    );
    expect(remaining).toEqual(Array(PAIR_LIMIT - 1).fill({ address: '203.0.113.66' }));
    // The attacker's budget was not reset: one more failure and the pair is slowed.
    await failTimes(1, 'shared@example.com', '203.0.113.66');
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

  it('lets no more than the pair limit through when many attempts arrive at once', async () => {
    const responses = await Promise.all(
      Array.from({ length: 12 }, () => attempt('burst@example.com', 'guess', '203.0.113.120')),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(PAIR_LIMIT);
    expect(statuses.filter((status) => status !== 401).every((status) => status === 429)).toBe(
      true,
    );
  });

  it('records successes, failures and throttling in the audit log, without the password', async () => {
    const user = await users.register('audit@example.com', 'analytical engine');
    await attempt('audit@example.com', 'analytical engine', '203.0.113.200');
    await failTimes(PAIR_LIMIT, 'audit@example.com', '203.0.113.200');
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
    expect(events[5].detail).toEqual({ retryAfterSeconds: 10 });
    expect(JSON.stringify(events)).not.toContain('analytical engine');
  });
});
