import { request as httpRequest } from 'node:http';
import { TestIssuer } from '@tessera/auth-testing';
import { AuthOptionsError, resolveAuthOptions } from '../auth-module.options';
import { createGuardTestApplication, get } from '../guard-test-application.spec-helper';
import type { GuardTestApplication } from '../guard-test-application.spec-helper';
import { Metrics } from '@tessera/platform';
import { JwtStrategy } from './jwt.strategy';

/** Only Date moves: HTTP, sockets and timers keep real time. */
function controlDate() {
  jest.useFakeTimers({
    doNotFake: [
      'nextTick',
      'setImmediate',
      'clearImmediate',
      'setTimeout',
      'clearTimeout',
      'setInterval',
      'clearInterval',
      'queueMicrotask',
      'hrtime',
      'performance',
    ],
    now: Date.now(),
  });
  return { advance: (seconds: number) => jest.setSystemTime(Date.now() + seconds * 1000) };
}

/** A GET with the given raw header lines, for what fetch() cannot send (a repeated header). */
function rawGet(url: string, path: string, headers: Record<string, string | string[]>) {
  return new Promise<{ status: number; challenge: string | undefined }>((resolve, reject) => {
    const request = httpRequest(`${url}${path}`, { method: 'GET' }, (response) => {
      response.resume();
      resolve({
        status: response.statusCode ?? 0,
        challenge: response.headers['www-authenticate'],
      });
    });
    for (const [name, value] of Object.entries(headers)) request.setHeader(name, value);
    request.on('error', reject).end();
  });
}

describe('JwtAuthGuard over HTTP', () => {
  let issuer: TestIssuer;
  let service: GuardTestApplication;
  const bearer = (claims: Record<string, unknown> = {}) => `Bearer ${issuer.accessToken(claims)}`;

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: 'guarded-service' });
    service = await createGuardTestApplication(issuer.moduleOptions());
  });
  afterAll(async () => {
    await service.close();
    await issuer.stop();
  });

  describe('RFC 6750 answers', () => {
    it('R1: asks for a token with a bare Bearer challenge when none was sent', async () => {
      const answer = await get(service.url, '/me');
      expect(answer).toMatchObject({ status: 401, challenge: 'Bearer' });
      expect(answer.body['message']).toBe('An access token is required');
    });

    it('lets a @Public() route through without a token, and with a bad one', async () => {
      expect((await get(service.url, '/public')).status).toBe(200);
      expect((await get(service.url, '/public', 'Bearer not.a.token')).status).toBe(200);
    });

    it('R3: answers a good token without the scope with 403 insufficient_scope, naming the scope', async () => {
      const answer = await get(service.url, '/notes', bearer({ scope: 'notes:write' }));
      expect(answer.status).toBe(403);
      expect(answer.challenge).toBe('Bearer error="insufficient_scope", scope="notes:read"');
      expect(answer.body).toMatchObject({
        error: 'insufficient_scope',
        message: 'This needs the scope notes:read',
      });
      expect(
        (await get(service.url, '/notes', bearer({ scope: 'notes:write notes:read' }))).status,
      ).toBe(200);
    });

    it('R3: answers a good token without the role with 403, and lets the role through', async () => {
      const answer = await get(service.url, '/admin', bearer({ roles: ['user'] }));
      expect(answer).toMatchObject({ status: 403, challenge: 'Bearer error="insufficient_scope"' });
      expect(answer.body['message']).toBe('This needs the role admin');
      expect((await get(service.url, '/admin', bearer({ roles: ['user', 'admin'] }))).status).toBe(
        200,
      );
    });

    it('needs the scopes of the controller and of the route together', async () => {
      const path = '/reports/export';
      expect((await get(service.url, path, bearer({ scope: 'reports:export' }))).status).toBe(403);
      expect((await get(service.url, path, bearer({ scope: 'reports:read' }))).status).toBe(403);
      expect(
        (await get(service.url, path, bearer({ scope: 'reports:read reports:export' }))).status,
      ).toBe(200);
    });

    it('R4: ignores a token in the query string', async () => {
      const answer = await get(service.url, `/me?access_token=${issuer.accessToken()}`);
      expect(answer).toMatchObject({ status: 401, challenge: 'Bearer' });
    });

    it('R5: refuses a token sent in the header and the query string at once with 400 invalid_request', async () => {
      const token = issuer.accessToken();
      const answer = await get(service.url, `/me?access_token=${token}`, `Bearer ${token}`);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ error: 'invalid_request' });
      expect(answer.challenge).toBe('Bearer error="invalid_request"');
    });

    it('R5: refuses two Authorization headers with 400 invalid_request', async () => {
      const token = issuer.accessToken();
      const answer = await rawGet(service.url, '/me', {
        authorization: [`Bearer ${token}`, `Bearer ${token}`],
      });
      expect(answer.status).toBe(400);
    });

    it.each(['bearer', 'BEARER', 'BeArEr'])(
      'R6: takes the scheme %s in any casing',
      async (scheme) => {
        expect((await get(service.url, '/me', `${scheme} ${issuer.accessToken()}`)).status).toBe(
          200,
        );
      },
    );

    it.each([2, 3])('R6: takes a token after %i spaces (1*SP)', async (spaces) => {
      const header = `Bearer${' '.repeat(spaces)}${issuer.accessToken()}`;
      expect((await get(service.url, '/me', header)).status).toBe(200);
    });

    it.each([
      ['Basic credentials', 'Basic dXNlcjpwYXNz', 'Bearer'],
      ['another scheme carrying a JWT', 'Token TOKEN', 'Bearer'],
      ['an empty header', '', 'Bearer'],
      ['Bearer without a token', 'Bearer', 'Bearer error="invalid_token"'],
      ['Bearer and spaces', 'Bearer    ', 'Bearer error="invalid_token"'],
      ['two tokens', 'Bearer TOKEN TOKEN', 'Bearer error="invalid_token"'],
      ['two comma-separated tokens', 'Bearer TOKEN, Bearer TOKEN', 'Bearer error="invalid_token"'],
    ])('R6: refuses %s with 401', async (_case, header, challenge) => {
      const token = issuer.accessToken();
      const answer = await get(service.url, '/me', header.replaceAll('TOKEN', token));
      expect(answer).toMatchObject({ status: 401, challenge });
    });

    it('R28: takes identity from the token only, never from identity headers', async () => {
      const response = await fetch(`${service.url}/me`, {
        headers: {
          authorization: bearer({ sub: 'ada', roles: [] }),
          'x-user-id': 'root',
          'x-roles': 'admin',
          'x-forwarded-user': 'root',
        },
      });
      expect(await response.json()).toMatchObject({ subject: 'ada', roles: [] });
    });
  });

  describe('step-up (RFC 9470)', () => {
    const MFA = 'urn:tessera:acr:mfa';
    const now = () => Math.floor(Date.now() / 1000);
    const stepUp = (claims: Record<string, unknown>) =>
      get(service.url, '/step-up', bearer({ scope: 'notes:write', ...claims }));

    it('refuses a password-only sign-in with 401 insufficient_user_authentication, naming acr_values and max_age', async () => {
      const answer = await stepUp({ acr: 'urn:tessera:acr:sfa', amr: ['pwd'], auth_time: now() });
      expect(answer.status).toBe(401);
      expect(answer.challenge).toBe(
        'Bearer error="insufficient_user_authentication", acr_values="urn:tessera:acr:mfa", max_age=300',
      );
      expect(answer.body).toMatchObject({ error: 'insufficient_user_authentication' });
    });

    it('refuses a token with no acr, an unknown acr, or no auth_time', async () => {
      expect((await stepUp({ auth_time: now() })).status).toBe(401);
      expect((await stepUp({ acr: 'urn:other:gold', auth_time: now() })).status).toBe(401);
      expect((await stepUp({ acr: MFA })).status).toBe(401);
    });

    it('refuses a second-factor sign-in older than max_age, and accepts a recent one', async () => {
      expect((await stepUp({ acr: MFA, auth_time: now() - 301 })).status).toBe(401);
      const answer = await stepUp({ acr: MFA, amr: ['pwd', 'otp', 'mfa'], auth_time: now() - 5 });
      expect(answer).toMatchObject({ status: 200, body: { stepped: true } });
    });

    it('answers a missing scope with 403 first: a new sign-in would not help', async () => {
      const answer = await get(service.url, '/step-up', bearer({ scope: 'notes:read' }));
      expect(answer.status).toBe(403);
    });

    it('refuses mistyped amr, acr and auth_time claims as invalid_token', async () => {
      for (const claims of [{ amr: 'pwd' }, { acr: 7 }, { auth_time: 'yesterday' }]) {
        const answer = await get(service.url, '/me', bearer(claims));
        expect(answer).toMatchObject({ status: 401, challenge: 'Bearer error="invalid_token"' });
      }
    });
  });

  describe('@RequireVerifiedEmail()', () => {
    const verified = (claims: Record<string, unknown>) =>
      get(service.url, '/verified', bearer({ scope: 'notes:write', ...claims }));

    it('admits a token that says email_verified: true', async () => {
      expect(await verified({ email_verified: true })).toMatchObject({
        status: 200,
        body: { verified: true },
      });
    });

    it('refuses email_verified false, or no claim at all, with 403 email_not_verified', async () => {
      for (const claims of [{ email_verified: false }, {}]) {
        const answer = await verified(claims);
        expect(answer).toMatchObject({
          status: 403,
          challenge: 'Bearer error="email_not_verified"',
          body: { error: 'email_not_verified' },
        });
      }
    });

    it('refuses a mistyped email_verified ("true" as a string) as invalid_token', async () => {
      const answer = await verified({ email_verified: 'true' });
      expect(answer).toMatchObject({ status: 401, challenge: 'Bearer error="invalid_token"' });
    });

    it('answers a missing scope with 403 insufficient_scope first', async () => {
      const answer = await get(service.url, '/verified', bearer({ email_verified: true }));
      expect(answer.body).toMatchObject({ error: 'insufficient_scope' });
    });
  });

  describe('the principal', () => {
    it('is typed from the verified claims: a user, or a service when sub is the client id', async () => {
      const user = await get(
        service.url,
        '/me',
        bearer({ sub: 'ada', client_id: 'web', scope: 'a b', roles: ['admin'], sid: 's-1' }),
      );
      expect(user.body).toEqual({
        subject: 'ada',
        issuer: issuer.issuer,
        clientId: 'web',
        audiences: ['guarded-service'],
        scopes: ['a', 'b'],
        roles: ['admin'],
        sessionId: 's-1',
        kind: 'user',
        issuedAt: expect.any(Number),
        expiresAt: expect.any(Number),
        amr: [],
        emailVerified: false,
      });
      const service_ = await get(
        service.url,
        '/me',
        bearer({ sub: 'reports', client_id: 'reports', sid: undefined, roles: undefined }),
      );
      expect(service_.body).toMatchObject({ subject: 'reports', kind: 'service', roles: [] });
      expect(service_.body).not.toHaveProperty('sessionId');
    });
  });

  describe('the verification cache', () => {
    afterEach(() => jest.useRealTimers());

    it('verifies a reused token once: later requests cost no signature check', async () => {
      const validate = jest.spyOn(JwtStrategy.prototype, 'validate');
      const token = bearer({ scope: 'notes:read' });
      for (let index = 0; index < 5; index += 1) {
        expect((await get(service.url, '/notes', token)).status).toBe(200);
      }
      expect(validate).toHaveBeenCalledTimes(1);
      validate.mockRestore();
    });

    it('still checks scopes and roles on a cached token', async () => {
      const token = bearer({ scope: 'notes:read' });
      expect((await get(service.url, '/notes', token)).status).toBe(200);
      expect((await get(service.url, '/admin', token)).status).toBe(403);
    });

    it('refuses a cached token once it has expired, past the leeway', async () => {
      const clock = controlDate();
      const token = `Bearer ${issuer.accessToken({}, { expiresIn: 60 })}`;
      expect((await get(service.url, '/me', token)).status).toBe(200);
      clock.advance(60 + 29);
      expect((await get(service.url, '/me', token)).status).toBe(200);
      clock.advance(2);
      expect(await get(service.url, '/me', token)).toMatchObject({
        status: 401,
        challenge: 'Bearer error="invalid_token"',
      });
    });

    it('never lets a token that differs by one character ride on a cached one', async () => {
      const token = issuer.accessToken();
      expect((await get(service.url, '/me', `Bearer ${token}`)).status).toBe(200);
      // A character in the middle of the signature: every one of its bits counts.
      const middle = token.length - 20;
      const altered = `${token.slice(0, middle)}${token[middle] === 'A' ? 'B' : 'A'}${token.slice(middle + 1)}`;
      expect((await get(service.url, '/me', `Bearer ${altered}`)).status).toBe(401);
      // 64 signature bytes end in a character with 2 bits used and 4 unused: setting one of those
      // spells the same bytes another way, and that is refused as well (R20: strict base64url).
      const last = token.at(-1) ?? '';
      expect('AQgw').toContain(last);
      const respelled = `${token.slice(0, -1)}${String.fromCharCode(last.charCodeAt(0) + 1)}`;
      const signature = (text: string) => Buffer.from(text.split('.')[2] ?? '', 'base64url');
      expect(signature(respelled).equals(signature(token))).toBe(true);
      expect((await get(service.url, '/me', `Bearer ${respelled}`)).status).toBe(401);
    });

    it('never lets a cached signature vouch for another header or payload', async () => {
      const token = issuer.accessToken({ scope: 'notes:read' });
      expect((await get(service.url, '/notes', `Bearer ${token}`)).status).toBe(200);
      const [header, payload, signature] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const forged = Buffer.from(
        JSON.stringify({ ...claims, scope: 'notes:read admin', roles: ['admin'] }),
      ).toString('base64url');
      // The cache finds entries by the end of the signature: the same signature on a wider payload is a miss,
      // verified in full and refused; on the token's own header with a byte more, the same.
      expect(
        (await get(service.url, '/admin', `Bearer ${header}.${forged}.${signature}`)).status,
      ).toBe(401);
      expect(
        (await get(service.url, '/notes', `Bearer ${header}A.${payload}.${signature}`)).status,
      ).toBe(401);
      // The token itself still rides on its entry: no verification, the entry was kept.
      const validate = jest.spyOn(JwtStrategy.prototype, 'validate');
      expect((await get(service.url, '/notes', `Bearer ${token}`)).status).toBe(200);
      expect(validate).not.toHaveBeenCalled();
      validate.mockRestore();
    });
  });
});

describe('JwtAuthGuard and the JWKS', () => {
  afterEach(() => jest.useRealTimers());

  it('R24: refuses a token whose key left the JWKS, cached or not, once the cache time has passed', async () => {
    const issuer = await TestIssuer.start({ audience: 'guarded-service' });
    const service = await createGuardTestApplication(
      issuer.moduleOptions({ jwksCacheMaxAge: 60, jwksCooldown: 10 }),
    );
    try {
      const clock = controlDate();
      const oldKey = issuer.currentKey;
      const cached = `Bearer ${issuer.accessToken({}, { expiresIn: 3600 })}`;
      const fresh = `Bearer ${issuer.accessToken({}, { expiresIn: 3600 })}`;
      expect((await get(service.url, '/me', cached)).status).toBe(200);

      issuer.addKey();
      oldKey.published = false;
      const signedByNewKey = `Bearer ${issuer.accessToken()}`;
      clock.advance(30);
      // Within the cache time the old key still verifies; a new kid is fetched at once.
      expect((await get(service.url, '/me', cached)).status).toBe(200);
      expect((await get(service.url, '/me', signedByNewKey)).status).toBe(200);

      clock.advance(61);
      expect((await get(service.url, '/me', fresh)).status).toBe(401);
      expect((await get(service.url, '/me', cached)).status).toBe(401);
      expect((await get(service.url, '/me', signedByNewKey)).status).toBe(200);
    } finally {
      await service.close();
      await issuer.stop();
    }
  });

  it('O2: keeps verifying with the keys it has while the issuer is down, and refuses bad tokens', async () => {
    const issuer = await TestIssuer.start({ audience: 'guarded-service' });
    const service = await createGuardTestApplication(
      issuer.moduleOptions({ jwksCacheMaxAge: 1, jwksCooldown: 1 }),
    );
    try {
      const token = issuer.accessToken();
      expect((await get(service.url, '/me', bearer(token))).status).toBe(200);
      await issuer.stop();
      const clock = controlDate();
      clock.advance(5);
      expect((await get(service.url, '/me', bearer(issuer.accessToken()))).status).toBe(200);
      expect((await get(service.url, '/me', bearer(`${token.slice(0, -2)}AA`))).status).toBe(401);
    } finally {
      await service.close();
    }
  });

  it('starts before its issuer is reachable and verifies as soon as the keys can be fetched', async () => {
    const issuer = await TestIssuer.start({ audience: 'guarded-service' });
    issuer.available = false;
    const service = await createGuardTestApplication(issuer.moduleOptions({ jwksCooldown: 30 }));
    try {
      const token = bearer(issuer.accessToken());
      expect((await get(service.url, '/me', token)).status).toBe(401);
      issuer.available = true;
      // At once, not after the 30 s cooldown: until a first fetch succeeds there is none.
      expect((await get(service.url, '/me', token)).status).toBe(200);
    } finally {
      await service.close();
      await issuer.stop();
    }
  });
});

describe('JwtAuthGuard metrics', () => {
  it('count every refusal by reason, and the JWKS fetches by outcome', async () => {
    const issuer = await TestIssuer.start({ audience: 'guarded-service' });
    issuer.available = false;
    const service = await createGuardTestApplication(issuer.moduleOptions({ jwksCooldown: 30 }));
    try {
      const token = issuer.accessToken();
      // The issuer is down: a failed fetch at start, and two for this token (the set is stale, then
      // the kid is unknown; until a first success there is no cooldown).
      expect((await get(service.url, '/me', `Bearer ${token}`)).status).toBe(401);
      issuer.available = true;
      expect((await get(service.url, '/me', `Bearer ${token}`)).status).toBe(200);
      expect((await get(service.url, '/me')).status).toBe(401);
      expect((await get(service.url, '/me', 'Bearer not.a.token')).status).toBe(401);
      const expired = issuer.accessToken({ exp: Math.floor(Date.now() / 1000) - 3600 });
      expect((await get(service.url, '/me', `Bearer ${expired}`)).status).toBe(401);
      const foreign = issuer.accessToken({ aud: 'another-service' });
      expect((await get(service.url, '/me', `Bearer ${foreign}`)).status).toBe(401);
      const reader = issuer.accessToken({ scope: 'notes:read' });
      expect((await get(service.url, '/notes', `Bearer ${reader}`)).status).toBe(200);
      const writer = issuer.accessToken({ scope: 'notes:write' });
      expect((await get(service.url, '/notes', `Bearer ${writer}`)).status).toBe(403);
      expect((await get(service.url, '/admin', `Bearer ${writer}`)).status).toBe(403);
      const twice = await rawGet(service.url, '/me', {
        authorization: [`Bearer ${token}`, `Bearer ${token}`],
      });
      expect(twice.status).toBe(400);

      const exposition = await service.app.get(Metrics).render();
      const count = (series: string) =>
        Number(
          new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(exposition)?.[1],
        );
      const refusals = (reason: string) =>
        count(`tessera_guard_refusals_total{reason="${reason}"}`);
      expect(refusals('unknown_key')).toBe(1);
      expect(refusals('missing_token')).toBe(1);
      expect(refusals('malformed')).toBe(1);
      expect(refusals('expired')).toBe(1);
      expect(refusals('audience')).toBe(1);
      expect(refusals('insufficient_scope')).toBe(2);
      expect(refusals('ambiguous_token')).toBe(1);
      expect(refusals('revoked')).toBe(0);
      expect(count('tessera_jwks_fetches_total{outcome="failure"}')).toBe(3);
      expect(count('tessera_jwks_fetches_total{outcome="success"}')).toBe(1);
      expect(issuer.requests).toBe(4);
    } finally {
      await service.close();
      await issuer.stop();
    }
  });
});

describe('AuthModule in a process with other applications', () => {
  it('never verifies with another application’s issuer: the one passport no longer calls refuses', async () => {
    const [first, second] = await Promise.all([
      TestIssuer.start({ audience: 'guarded-service' }),
      TestIssuer.start({ audience: 'guarded-service' }),
    ]);
    const one = await createGuardTestApplication(first.moduleOptions());
    const seenByOne = bearer(first.accessToken());
    expect((await get(one.url, '/me', seenByOne)).status).toBe(200);
    const two = await createGuardTestApplication(second.moduleOptions());
    try {
      // The second application verifies with its own issuer only.
      expect((await get(two.url, '/me', bearer(second.accessToken()))).status).toBe(200);
      expect((await get(two.url, '/me', bearer(first.accessToken()))).status).toBe(401);
      // The first no longer owns passport's strategy: a token it has not verified before is
      // refused outright (never checked against the second's issuer); one it had verified stays
      // valid.
      expect((await get(one.url, '/me', bearer(second.accessToken()))).status).toBe(500);
      expect((await get(one.url, '/me', bearer(first.accessToken()))).status).toBe(500);
      expect((await get(one.url, '/me', seenByOne)).status).toBe(200);
    } finally {
      await Promise.all([one.close(), two.close()]);
      await Promise.all([first.stop(), second.stop()]);
    }
  });
});

describe('AuthModule options', () => {
  it('applies the documented defaults', () => {
    expect(resolveAuthOptions({ issuer: 'https://auth.example.com', audience: 'orders' })).toEqual({
      issuer: 'https://auth.example.com',
      audience: 'orders',
      jwksUri: 'https://auth.example.com/.well-known/jwks.json',
      algorithms: ['ES256', 'RS256'],
      clockTolerance: 30,
      jwksCacheMaxAge: 300,
      jwksCooldown: 30,
      jwksTimeout: 3000,
      verificationCacheSize: 10000,
    });
  });

  it('refuses options that cannot be right, naming each', () => {
    const resolve = () =>
      resolveAuthOptions({
        issuer: 'auth.example.com',
        audience: '',
        algorithms: ['HS256' as never],
        clockTolerance: 600,
      });
    expect(resolve).toThrow(AuthOptionsError);
    expect(resolve).toThrow(
      /issuer must be an http\(s\) URL; audience must be .*; algorithms must be .*; clockTolerance must be a number from 0 to 60/,
    );
  });
});

function bearer(token: string): string {
  return `Bearer ${token}`;
}
