import { Client } from 'pg';
import { call, claimsOf, startTesseraSystem } from './support/tessera-system';
import type { TesseraSystem } from './support/tessera-system';
import { linkToken, TestMailServer } from './support/test-mail-server';

/**
 * Email verification, password reset and email change end to end (issue 20, checklist M5–M7):
 * auth-service and resource-service as built processes, mail caught by an SMTP server in this
 * process and parsed, every link followed as the account pages would (its token posted to the
 * JSON endpoint).
 */

const PUBLIC_URL = 'https://app.example.test';
const BOUND_MS = 2000;
const PASSWORD = 'correct horse battery staple';

let system: TesseraSystem;
let mail: TestMailServer;
let accounts = 0;

async function post(path: string, body: unknown, token?: string) {
  return call(`${system.issuer}${path}`, 'POST', body, token);
}

async function signIn(email: string, password = PASSWORD) {
  return post('/auth/login', {
    email,
    password,
    scope: 'openid email notes:read notes:write',
    resource: ['auth-service', 'resource-service'],
  });
}

/** A new account whose verification mail has arrived (and is returned). */
async function register() {
  accounts += 1;
  const email = `account${accounts}-${Date.now()}@example.com`;
  expect((await post('/auth/register', { email, password: PASSWORD })).status).toBe(201);
  const verification = await mail.take(email, /Confirm your email/);
  return { email, verification };
}

async function database<T>(query: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: system.authDatabase });
  await client.connect();
  try {
    return await query(client);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  mail = await TestMailServer.start(13133);
  system = await startTesseraSystem({
    authPort: 13131,
    resourcePort: 13132,
    name: 'account',
    authEnv: {
      SMTP_URL: mail.url,
      PUBLIC_URL,
      REGISTRATION_ADDRESS_LIMIT: '1000',
      ACCOUNT_MAIL_ADDRESS_LIMIT: '1000',
    },
  });
  // A mail that never comes: what the outbox holds and what auth-service said about mail.
  mail.explainTimeoutsWith(async () => {
    const rows = await database(
      async (client) =>
        (
          await client.query(
            `SELECT id, channel, position, attempts, next_attempt_at, lease_until, failed_at, last_error
               FROM outbox_messages ORDER BY id`,
          )
        ).rows,
    );
    const said = system.auth.logs
      .split('\n')
      .filter((line) =>
        /"context":"(MailSender|OutboxDispatcher)"|"level":"(warn|error|fatal)"/.test(line),
      )
      .slice(-20);
    return `outbox_messages: ${JSON.stringify(rows)}\nauth-service:\n${said.join('\n')}`;
  });
});

afterAll(async () => {
  expect(await system?.stop()).toEqual([0, 0]);
  await mail?.stop();
});

describe('email verification', () => {
  it('mails a link and a code at registration; the link verifies the address for /userinfo, the ID token and the access token', async () => {
    const { email, verification } = await register();
    expect(verification.html).toContain(
      'href="https://app.example.test/account/verify-email?token=',
    );
    const { url, token } = linkToken(verification, '/account/verify-email');
    expect(url.origin).toBe(PUBLIC_URL);

    const before = await signIn(email);
    expect(claimsOf(String(before.body['id_token']))).toMatchObject({
      email,
      email_verified: false,
    });
    expect(claimsOf(String(before.body['access_token']))).toMatchObject({ email_verified: false });
    const unverified = await call(
      `${system.issuer}/userinfo`,
      'GET',
      undefined,
      String(before.body['access_token']),
    );
    expect(unverified.body).toMatchObject({ email, email_verified: false });

    const verified = await post('/auth/email/verify', { token });
    expect(verified).toMatchObject({ status: 200, body: { email, email_verified: true } });

    const after = await signIn(email);
    expect(claimsOf(String(after.body['id_token']))).toMatchObject({ email, email_verified: true });
    expect(claimsOf(String(after.body['access_token']))).toMatchObject({ email_verified: true });
    const userinfo = await call(
      `${system.issuer}/userinfo`,
      'GET',
      undefined,
      String(after.body['access_token']),
    );
    expect(userinfo).toMatchObject({ status: 200, body: { email, email_verified: true } });
    // The link works once.
    expect((await post('/auth/email/verify', { token })).body).toMatchObject({
      error: 'invalid_token',
    });
  });

  it('verifies with the mailed code, and ends the code after five wrong ones', async () => {
    const first = await register();
    const code = /code: (\d{6})/.exec(first.verification.text)?.[1];
    expect(code).toMatch(/^\d{6}$/);
    const wrong = code === '000000' ? '000001' : '000000';
    expect((await post('/auth/email/verify', { email: first.email, code: wrong })).status).toBe(
      400,
    );
    expect(await post('/auth/email/verify', { email: first.email, code })).toMatchObject({
      status: 200,
      body: { email_verified: true },
    });

    const second = await register();
    const secondCode = /code: (\d{6})/.exec(second.verification.text)?.[1] ?? '';
    const other = secondCode === '999999' ? '999998' : '999999';
    for (let attempt = 0; attempt < 5; attempt += 1) {
      expect((await post('/auth/email/verify', { email: second.email, code: other })).status).toBe(
        400,
      );
    }
    expect(
      (await post('/auth/email/verify', { email: second.email, code: secondCode })).status,
    ).toBe(400);
  });

  it('resends on request with the same answer as for an unknown address, and the new link replaces the old', async () => {
    const { email, verification } = await register();
    const known = await post('/auth/email/verification', { email });
    const unknown = await post('/auth/email/verification', {
      email: `nobody-${Date.now()}@example.com`,
    });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(known.body).toEqual(unknown.body);
    const resent = await mail.take(email, /Confirm your email/);
    expect(
      (
        await post('/auth/email/verify', {
          token: linkToken(verification, '/account/verify-email').token,
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await post('/auth/email/verify', {
          token: linkToken(resent, '/account/verify-email').token,
        })
      ).status,
    ).toBe(200);
  });
});

describe('password reset', () => {
  async function forgot(email: string) {
    const answer = await post('/auth/password/forgot', { email });
    expect(answer.status).toBe(202);
    const reset = await mail.take(email, /Reset your password/);
    return linkToken(reset, '/account/reset-password').token;
  }

  it(`resets the password, ends every session (resource-service refuses within ${BOUND_MS} ms), notifies, and the new password signs in`, async () => {
    const { email } = await register();
    const session = await signIn(email);
    const accessToken = String(session.body['access_token']);
    expect((await call(`${system.resourceUrl}/notes`, 'GET', undefined, accessToken)).status).toBe(
      200,
    );

    const token = await forgot(email);
    const newPassword = 'a brand new passphrase';
    expect((await post('/auth/password/reset', { token, new_password: newPassword })).status).toBe(
      204,
    );
    const resetAt = performance.now();
    while (
      (await call(`${system.resourceUrl}/notes`, 'GET', undefined, accessToken)).status !== 401
    ) {
      if (performance.now() - resetAt > 10 * BOUND_MS)
        throw new Error('the old token was never refused');
      await new Promise((done) => setTimeout(done, 10));
    }
    const refusedAfter = performance.now() - resetAt;
    console.log(`old access token refused ${Math.round(refusedAfter)} ms after the reset`);
    expect(refusedAfter).toBeLessThan(BOUND_MS);

    const notice = await mail.take(email, /password was changed/);
    expect(notice.text).toContain(`${PUBLIC_URL}/account/forgot-password`);
    expect((await signIn(email)).status).toBe(401);
    expect((await signIn(email, newPassword)).status).toBe(200);
    // Following the link proved the address.
    expect(claimsOf(String((await signIn(email, newPassword)).body['access_token']))).toMatchObject(
      {
        email_verified: true,
      },
    );
  });

  it('refuses a used link, an expired one, one after a newer one, and one after the password changed otherwise', async () => {
    const { email } = await register();
    const refused = (token: string) =>
      post('/auth/password/reset', { token, new_password: 'yet another passphrase' });

    const used = await forgot(email);
    expect(
      (await post('/auth/password/reset', { token: used, new_password: 'passphrase number two' }))
        .status,
    ).toBe(204);
    expect((await refused(used)).body).toMatchObject({ error: 'invalid_token' });

    const expired = await forgot(email);
    await database((client) =>
      client.query(
        `UPDATE account_tokens SET expires_at = now() - interval '1 second' WHERE purpose = 'password_reset'`,
      ),
    );
    expect((await refused(expired)).status).toBe(400);

    const older = await forgot(email);
    const newer = await forgot(email);
    expect((await refused(older)).status).toBe(400);

    const login = await signIn(email, 'passphrase number two');
    const changed = await post(
      '/auth/password',
      { current_password: 'passphrase number two', new_password: 'changed the usual way' },
      String(login.body['access_token']),
    );
    expect(changed.status).toBe(200);
    expect((await refused(newer)).body).toMatchObject({ error: 'invalid_token' });
    expect((await signIn(email, 'changed the usual way')).status).toBe(200);
  });

  it('answers a known and an unknown address with the same body, in the same time (fastest thirds within 1.5x or 3 ms)', async () => {
    const { email } = await register();
    const unknownEmail = `unknown-${Date.now()}@example.com`;
    const bodies = new Set<string>();
    const ask = async (address: string, times: number[]) => {
      const answer = await post('/auth/password/forgot', { email: address });
      expect(answer.status).toBe(202);
      bodies.add(JSON.stringify(answer.body));
      times.push(answer.ms);
    };
    // A busy machine only ever adds time, and adds tens of milliseconds to answers that cost a
    // few (CI: 3 to 159 ms for the same request): the fastest third of each set shows what each
    // answer costs, where a median shows the neighbours. Work done for a known address in the
    // request (a hash, sending the mail) would show there as well.
    const fastestThird = (values: number[]) => {
      const fastest = [...values].sort((a, b) => a - b).slice(0, Math.ceil(values.length / 3));
      return fastest.reduce((sum, value) => sum + value, 0) / fastest.length;
    };
    /** One round of 30 pairs, interleaved, each address first in turn. */
    const round = async () => {
      const known: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 30; i += 1) {
        const pair: [string, number[]][] = [
          [unknownEmail, unknown],
          [email, known],
        ];
        for (const [address, times] of i % 2 === 0 ? pair : pair.reverse()) {
          await ask(address, times);
        }
      }
      console.log(
        `forgot-password times (ms): unknown ${unknown.map(Math.round).join(' ')}; known ${known.map(Math.round).join(' ')}`,
      );
      const [unknownCost, knownCost] = [fastestThird(unknown), fastestThird(known)];
      const ratio = unknownCost / knownCost;
      // Within 1.5x, as the login's timing test asks, or within 3 ms: these answers take a few
      // milliseconds, where a scheduler's tick alone is a large part of one.
      const same = Math.abs(unknownCost - knownCost) < 3 || (ratio > 1 / 1.5 && ratio < 1.5);
      return { unknownCost, knownCost, same };
    };
    // Up to three rounds, passing on the first within the bound: neighbours that slow one set
    // more than the other (one round failed in each of two of about a dozen full runs here) rarely
    // do so three rounds running, while work the service did for a known address in the request
    // would show in every round.
    const rounds = [];
    for (let attempt = 0; attempt < 3 && !rounds.at(-1)?.same; attempt += 1) {
      rounds.push(await round());
    }
    console.log(
      `forgot-password, mean of the fastest third per round: ${rounds
        .map(
          ({ unknownCost, knownCost }) =>
            `unknown ${unknownCost.toFixed(1)} ms, known ${knownCost.toFixed(1)} ms`,
        )
        .join('; ')}`,
    );
    expect(bodies.size).toBe(1);
    expect(rounds.at(-1)).toMatchObject({ same: true });
    // Only ACCOUNT_MAIL_ACCOUNT_LIMIT (5) mails reached the known inbox, none the unknown one.
    await mail.take(email, /Reset your password/);
    expect(mail.mails.filter((caught) => caught.to === unknownEmail)).toEqual([]);
  });
});

describe('the hosted pages the links open', () => {
  /** GETs a page and posts its form back with the page's CSRF token and cookies, as a browser. */
  async function submit(page: string, fields: Record<string, string>) {
    const form = await fetch(`${system.issuer}${page}`);
    expect(form.status).toBe(200);
    const html = await form.text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const cookie = form.headers
      .getSetCookie()
      .map((set) => set.split(';')[0])
      .join('; ');
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? '';
    const token = /name="token" value="([^"]*)"/.exec(html)?.[1];
    const answer = await fetch(`${system.issuer}${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({ _csrf: csrf, ...(token && { token }), ...fields }),
    });
    return { status: answer.status, html: await answer.text() };
  }

  it('resets a password through the forgot and reset pages, and verifies through the verify page', async () => {
    const { email, verification } = await register();
    const verify = linkToken(verification, '/account/verify-email');
    const verified = await submit(`${verify.url.pathname}${verify.url.search}`, {});
    expect(verified).toMatchObject({ status: 200 });
    expect(verified.html).toContain('Your email address is confirmed.');

    const asked = await submit('/account/forgot-password', { email });
    expect(asked.html).toContain('If an account has this address, a link is on its way.');
    const reset = linkToken(
      await mail.take(email, /Reset your password/),
      '/account/reset-password',
    );
    const weak = await submit(`${reset.url.pathname}${reset.url.search}`, {
      new_password: 'short',
    });
    expect(weak.status).toBe(400);
    const done = await submit(`${reset.url.pathname}${reset.url.search}`, {
      new_password: 'a passphrase set on the page',
    });
    expect(done).toMatchObject({ status: 200 });
    expect(done.html).toContain('Your password was changed');
    expect((await signIn(email, 'a passphrase set on the page')).status).toBe(200);
    // Opening the link again changes nothing; posting it again is refused.
    const again = await submit(`${reset.url.pathname}${reset.url.search}`, {
      new_password: 'a third passphrase here',
    });
    expect(again.status).toBe(400);
  });

  it("refuses a form post without the page's CSRF token", async () => {
    const answer = await fetch(`${system.issuer}/account/forgot-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: 'someone@example.com' }),
    });
    expect(answer.status).toBe(403);
  });
});

describe('email change', () => {
  it('moves the account after the new address confirms, tells the old one, and the old one can undo it', async () => {
    const { email } = await register();
    const newEmail = `moved-${Date.now()}@example.com`;
    const login = await signIn(email);
    const accessToken = String(login.body['access_token']);
    expect(
      (await post('/auth/email/change', { new_email: newEmail, password: 'wrong' }, accessToken))
        .status,
    ).toBe(400);
    expect(
      (await post('/auth/email/change', { new_email: newEmail, password: PASSWORD }, accessToken))
        .status,
    ).toBe(202);

    const confirm = await mail.take(newEmail, /Confirm your new email/);
    const confirmed = await post('/auth/email/change/confirm', {
      token: linkToken(confirm, '/account/confirm-email-change').token,
    });
    expect(confirmed).toMatchObject({
      status: 200,
      body: { email: newEmail, email_verified: true },
    });
    expect((await signIn(newEmail)).status).toBe(200);
    expect((await signIn(email)).status).toBe(401);

    const notice = await mail.take(email, /email address of your account was changed/);
    expect(notice.text).toContain(newEmail);
    const undo = linkToken(notice, '/account/undo-email-change').token;
    expect(await post('/auth/email/change/undo', { token: undo })).toMatchObject({
      status: 200,
      body: { email },
    });
    expect((await signIn(email)).status).toBe(200);
    expect((await signIn(newEmail)).status).toBe(401);
    // Undoing ended every session, the one that asked for the change included.
    expect(
      (await call(`${system.issuer}/auth/sessions`, 'GET', undefined, accessToken)).status,
    ).toBe(401);
    expect((await post('/auth/email/change/undo', { token: undo })).status).toBe(400);
  });
});

describe('mail while the mail server is down', () => {
  it('keeps the mail in the outbox and sends it once the server is back', async () => {
    const { email } = await register();
    await mail.pause();
    try {
      expect((await post('/auth/password/forgot', { email })).status).toBe(202);
      // At least one delivery has failed before the server comes back.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const [row] = await database((client) =>
          client.query<{ attempts: number }>(
            `SELECT max(attempts) AS attempts FROM outbox_messages`,
          ),
        ).then((result) => result.rows);
        if ((row?.attempts ?? 0) >= 1) break;
        if (Date.now() > deadline) throw new Error('the outbox never tried to send');
        await new Promise((done) => setTimeout(done, 50));
      }
    } finally {
      await mail.resume();
    }
    const reset = await mail.take(email, /Reset your password/, 60_000);
    expect(linkToken(reset, '/account/reset-password').token).toMatch(/^[\w-]{43}$/);
  });
});
