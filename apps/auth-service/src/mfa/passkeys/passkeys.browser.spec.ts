import { createTestApplication } from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { DataSource } from 'typeorm';
import { AppModule } from '../../app.module';
import { authServiceConfig } from '../../config/auth-service.config';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const OUTPUT = resolve(__dirname, '../../../../../dist/test-output/auth-service');
const AUTHENTICATOR = {
  protocol: 'ctap2',
  transport: 'internal',
  hasResidentKey: true,
  hasUserVerification: true,
  isUserVerified: true,
  automaticPresenceSimulation: true,
} as const;
/** @simplewebauthn/browser's own bundle: the page calls navigator.credentials through it. */
const WEBAUTHN_BROWSER = resolve(
  __dirname,
  '../../../../../node_modules/@simplewebauthn/browser/dist/bundle/index.umd.min.js',
);

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

function claimsOf(token: unknown): Record<string, unknown> {
  return JSON.parse(Buffer.from(String(token).split('.')[1] ?? '', 'base64url').toString());
}

/** A free loopback port, taken and given back: the origin passkeys are bound to is known before start. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

/**
 * Passkeys in headless Chromium with the DevTools virtual authenticator (CTAP2, internal, resident
 * keys, user verification): register one, sign in with it alone, use it as the second factor after
 * a password, and delete it (checklist M3, M4). The browser is on http://localhost:<port> (the
 * relying party `localhost`), forwarded to the app; options come from the JSON endpoints and the
 * page answers them with @simplewebauthn/browser.
 */
describe('passkeys in a browser', () => {
  let service: TestApplication;
  let forwarder: Server;
  let browser: Browser;
  let page: Page;
  let origin: string;
  let devtools: CDPSession;
  let authenticatorId: string;

  const call = async (
    method: string,
    path: string,
    options: { body?: unknown; token?: string } = {},
  ): Promise<Reply> => {
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: {
        ...(options.body !== undefined && { 'content-type': 'application/json' }),
        ...(options.token && { authorization: `Bearer ${options.token}` }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : {},
    };
  };
  const create = (optionsJSON: unknown) =>
    page.evaluate(
      (options) =>
        (
          globalThis as unknown as {
            SimpleWebAuthnBrowser: { startRegistration(a: unknown): Promise<unknown> };
          }
        ).SimpleWebAuthnBrowser.startRegistration({ optionsJSON: options }),
      optionsJSON,
    );
  const get = (optionsJSON: unknown) =>
    page.evaluate(
      (options) =>
        (
          globalThis as unknown as {
            SimpleWebAuthnBrowser: { startAuthentication(a: unknown): Promise<unknown> };
          }
        ).SimpleWebAuthnBrowser.startAuthentication({ optionsJSON: options }),
      optionsJSON,
    );

  const email = 'passkey@example.com';
  const password = 'a long passphrase for passkeys';

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://localhost:${port}`;
    service = await createTestApplication(AppModule, authServiceConfig, {
      WEBAUTHN_RP_ID: 'localhost',
      WEBAUTHN_ORIGINS: origin,
    });
    const target = Number(new URL(service.url).port);
    forwarder = createServer((socket) => {
      const upstream = connect(target, '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((done) => forwarder.listen(port, '127.0.0.1', done));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    // The service's CSP (rightly) allows no script: the test's own helper is let in.
    page = await (await browser.newContext({ bypassCSP: true })).newPage();
    await page.goto(`${origin}/health/live`);
    await page.addScriptTag({ path: WEBAUTHN_BROWSER });
    devtools = await page.context().newCDPSession(page);
    await devtools.send('WebAuthn.enable');
    ({ authenticatorId } = await devtools.send('WebAuthn.addVirtualAuthenticator', {
      options: AUTHENTICATOR,
    }));
    expect((await call('POST', '/auth/register', { body: { email, password } })).status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => forwarder?.close(done));
    await service?.close();
  });

  let passkeyId: string;

  it('registers a passkey made by the authenticator, named, with recovery codes as the first factor', async () => {
    const login = await call('POST', '/auth/login', {
      body: { email, password, resource: ['auth-service'] },
    });
    const token = login.body['access_token'] as string;
    const options = await call('POST', '/auth/passkeys/registration-options', { token });
    expect(options.status).toBe(200);
    expect(options.body).toMatchObject({
      rp: { id: 'localhost', name: 'Tessera' },
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    });
    const response = await create(options.body);
    const registered = await call('POST', '/auth/passkeys', {
      token,
      body: { name: 'Virtual authenticator', response },
    });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ name: 'Virtual authenticator', last_used_at: null });
    expect(registered.body['recovery_codes']).toHaveLength(10);
    passkeyId = registered.body['id'] as string;

    // The registration's challenge is spent: the same answer registers nothing again.
    const again = await call('POST', '/auth/passkeys', {
      token,
      body: { name: 'Again', response },
    });
    expect(again).toMatchObject({ status: 400, body: { error: 'invalid_passkey' } });

    const renamed = await call('PATCH', `/auth/passkeys/${passkeyId}`, {
      token,
      body: { name: 'Laptop' },
    });
    expect(renamed).toMatchObject({ status: 200, body: { name: 'Laptop' } });
    const list = await call('GET', '/auth/passkeys', { token });
    expect((list.body['passkeys'] as { name: string }[]).map((passkey) => passkey.name)).toEqual([
      'Laptop',
    ]);
  });

  it('signs in with the passkey alone: amr hwk user mfa; an assertion is answered once', async () => {
    const options = await call('POST', '/auth/login/passkey-options', { body: {} });
    expect(options.body).toMatchObject({ userVerification: 'required', rpId: 'localhost' });
    expect(options.body['allowCredentials']).toEqual([]);
    const assertion = await get(options.body);
    const signedIn = await call('POST', '/auth/login/passkey', { body: { passkey: assertion } });
    expect(signedIn.status).toBe(200);
    expect(claimsOf(signedIn.body['access_token'])).toMatchObject({
      amr: ['hwk', 'user', 'mfa'],
      acr: 'urn:tessera:acr:mfa',
    });
    const replayed = await call('POST', '/auth/login/passkey', { body: { passkey: assertion } });
    expect(replayed).toMatchObject({ status: 401, body: { error: 'invalid_second_factor' } });
  });

  /** Replaces the passkeys of one virtual authenticator with another's (signature counters too). */
  async function copyPasskeys(
    from: { session: CDPSession; id: string },
    to: { session: CDPSession; id: string },
  ): Promise<void> {
    const { credentials } = await from.session.send('WebAuthn.getCredentials', {
      authenticatorId: from.id,
    });
    await to.session.send('WebAuthn.clearCredentials', { authenticatorId: to.id });
    for (const credential of credentials) {
      await to.session.send('WebAuthn.addCredential', { authenticatorId: to.id, credential });
    }
  }

  /**
   * Runs `steps` on a page of the hosted pages as a person gets it: the service's CSP in force (no
   * test script), and an authenticator holding the passkey registered above. The passkey moves
   * there and back over DevTools, so its signature counter keeps growing.
   */
  async function onHostedPage(steps: (hosted: Page) => Promise<void>): Promise<void> {
    const hosted = await (await browser.newContext()).newPage();
    const session = await hosted.context().newCDPSession(hosted);
    await session.send('WebAuthn.enable');
    const added = await session.send('WebAuthn.addVirtualAuthenticator', {
      options: AUTHENTICATOR,
    });
    const original = { session: devtools, id: authenticatorId };
    const copy = { session, id: added.authenticatorId };
    await copyPasskeys(original, copy);
    try {
      await steps(hosted);
    } finally {
      await copyPasskeys(copy, original);
      await hosted.context().close();
    }
  }
  const pageSessions = () =>
    service.app.get(DataSource).query(
      `SELECT b.amr FROM browser_sessions b JOIN users u ON u.id = b.user_id
          WHERE u.email = $1 AND b.ended_at IS NULL ORDER BY b.auth_time`,
      [email],
    ) as Promise<{ amr: string[] }[]>;

  it('signs in on the hosted page with the passkey alone, through its script under its CSP', async () => {
    await onHostedPage(async (hosted) => {
      const response = await hosted.goto(`${origin}/signin`);
      const policy = response?.headers()['content-security-policy'] ?? '';
      expect(policy).toContain("script-src 'self'");
      expect(policy).not.toContain('unsafe-inline');
      await hosted.getByRole('button', { name: 'Use a passkey' }).click();
      await hosted.getByRole('heading', { name: 'You are signed in' }).waitFor();
      expect(await pageSessions()).toEqual([{ amr: ['hwk', 'user', 'mfa'] }]);
    });
  }, 60_000);

  it('asks for the passkey on the hosted page after the password, and takes it', async () => {
    await onHostedPage(async (hosted) => {
      await hosted.goto(`${origin}/signin`);
      await hosted.getByLabel('Email').fill(email);
      await hosted.getByLabel('Password').fill(password);
      await hosted.getByRole('button', { name: 'Sign in' }).click();
      await hosted.getByRole('heading', { name: 'Confirm it is you' }).waitFor();
      await hosted.screenshot({ path: resolve(OUTPUT, 'second-factor-passkey.png') });
      await hosted.getByRole('button', { name: 'Use a passkey' }).click();
      await hosted.getByRole('heading', { name: 'You are signed in' }).waitFor();
      expect(await pageSessions()).toContainEqual({ amr: ['pwd', 'hwk', 'user', 'mfa'] });
    });
  }, 60_000);

  it('asks for the passkey after the password, and takes it as the second factor', async () => {
    const first = await call('POST', '/auth/login', {
      body: { email, password, resource: ['auth-service'] },
    });
    expect(first).toMatchObject({ status: 403, body: { methods: ['passkey', 'recovery_code'] } });
    const mfaToken = first.body['mfa_token'] as string;
    const options = await call('POST', '/auth/login/passkey-options', {
      body: { mfa_token: mfaToken },
    });
    expect(options.body['allowCredentials']).toHaveLength(1);
    const assertion = await get(options.body);
    const signedIn = await call('POST', '/auth/login/second-factor', {
      body: { mfa_token: mfaToken, passkey: assertion },
    });
    expect(signedIn.status).toBe(200);
    expect(claimsOf(signedIn.body['access_token'])['amr']).toEqual(['pwd', 'hwk', 'user', 'mfa']);

    // Deleting it needs that fresh second factor; then the password alone signs in again.
    const token = signedIn.body['access_token'] as string;
    const removed = await call('DELETE', `/auth/passkeys/${passkeyId}`, { token });
    expect(removed.status).toBe(204);
    expect((await call('GET', '/auth/passkeys', { token })).body['passkeys']).toEqual([]);
    const plain = await call('POST', '/auth/login', { body: { email, password } });
    expect(plain.status).toBe(200);
  });
});
