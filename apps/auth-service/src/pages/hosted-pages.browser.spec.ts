import { Clock } from '@tessera/auth-token';
import * as client from 'openid-client';
import { Secret, TOTP } from 'otpauth';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createHash, createPublicKey, verify } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { createIssuerTestApplication } from '../authorization/authorization-test-application.spec-helper';
import type { IssuerTestApplication } from '../authorization/authorization-test-application.spec-helper';

/**
 * The authorization-code flow as a person and a certified relying party go through it:
 * openid-client builds the request from the discovery document, headless Chromium (Debian's,
 * never downloaded) fills the hosted sign-in and consent pages by their labels, and openid-client
 * exchanges the code, checks the ID token, reads userinfo, refreshes and signs out.
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const HAS_BROWSER = existsSync(CHROMIUM) || process.env['CI'] === 'true';
if (!HAS_BROWSER)
  console.warn(`Skipping the hosted pages' browser test: no Chromium at ${CHROMIUM}`);
const describeInBrowser = HAS_BROWSER ? describe : describe.skip;
const OUTPUT = resolve(__dirname, '../../../../dist/test-output/auth-service');

const PARTNER = 'partner-notes';
const execute = [client.allowInsecureRequests];

let service: IssuerTestApplication;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let relyingParty: client.Configuration;
/**
 * The relying party's own pages, on http://localhost:<port> (another site than the issuer's
 * 127.0.0.1): every request is recorded and answered; `/framer` frames the sign-in page.
 */
let partner: Server;
let partnerUrl: string;
let CALLBACK: string;
let SIGNED_OUT: string;
const arrivals: URL[] = [];

function startPartner(): Promise<void> {
  partner = createServer((request, response) => {
    const url = new URL(request.url ?? '/', partnerUrl);
    arrivals.push(url);
    const body =
      url.pathname === '/framer'
        ? `<!doctype html><title>framer</title><iframe src="${service.url}/signin"></iframe>`
        : '<!doctype html><title>partner</title><p>back at the client</p>';
    response.writeHead(200, { 'content-type': 'text/html' }).end(body);
  });
  return new Promise((resolve) =>
    partner.listen(0, '127.0.0.1', () => {
      const address = partner.address();
      partnerUrl = `http://localhost:${typeof address === 'object' && address ? address.port : 0}`;
      CALLBACK = `${partnerUrl}/callback`;
      SIGNED_OUT = `${partnerUrl}/signed-out`;
      resolve();
    }),
  );
}

beforeAll(async () => {
  if (!HAS_BROWSER) return;
  service = await createIssuerTestApplication();
  await startPartner();
  await service.app.get(DataSource).query(
    `INSERT INTO clients (id, type, grant_types, scopes, audiences, default_audiences, redirect_uris, post_logout_redirect_uris)
     VALUES ($1, 'public', '{authorization_code,refresh_token}', '{openid,email,notes:read}',
             '{auth-service,resource-service}', '{resource-service}', $2, $3)`,
    [PARTNER, [CALLBACK], [SIGNED_OUT]],
  );
  relyingParty = await client.discovery(new URL(service.url), PARTNER, undefined, client.None(), {
    execute,
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  context = await browser.newContext({ viewport: { width: 480, height: 640 } });
  page = await context.newPage();
  mkdirSync(OUTPUT, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  partner?.close();
  await service?.close();
});

function jwtParts(token: string) {
  const [header = '', payload = '', signature = ''] = token.split('.');
  const json = (part: string) =>
    JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;
  return {
    header: json(header),
    claims: json(payload),
    input: `${header}.${payload}`,
    signature: Buffer.from(signature, 'base64url'),
  };
}

async function signatureValid(token: string): Promise<boolean> {
  const { header, input, signature } = jwtParts(token);
  const jwks = (await (await fetch(`${service.url}/.well-known/jwks.json`)).json()) as {
    keys: (JsonWebKey & { kid: string })[];
  };
  const jwk = jwks.keys.find((key) => key.kid === header['kid']);
  if (!jwk) return false;
  return verify(
    'sha256',
    Buffer.from(input),
    { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
    signature,
  );
}

async function newUser() {
  const user = {
    email: `browser-${Date.now()}@example.com`,
    password: 'correct horse battery browser',
  };
  const response = await fetch(`${service.url}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(user),
  });
  expect(response.status).toBe(201);
  return user;
}

/** The relying party's authorization URL, with its secrets (and `extra` parameters). */
async function authorizationRequest(extra: Record<string, string> = {}) {
  const codeVerifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const parameters = new URLSearchParams({
    redirect_uri: CALLBACK,
    scope: 'openid email notes:read',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    ...extra,
  });
  // RFC 8707: a token for auth-service's userinfo and for resource-service.
  parameters.append('resource', 'auth-service');
  parameters.append('resource', 'resource-service');
  return {
    url: client.buildAuthorizationUrl(relyingParty, parameters),
    codeVerifier,
    nonce,
    state,
  };
}

async function arrival(): Promise<URL> {
  await page.waitForURL((url) => url.href.startsWith(partnerUrl), { timeout: 15_000 });
  return new URL(page.url());
}

describeInBrowser('the hosted pages in Chromium, with openid-client as the relying party', () => {
  it('signs in, consents, and the client exchanges, verifies, refreshes and signs out', async () => {
    const user = await newUser();
    const request = await authorizationRequest();

    await page.goto(request.url.href);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.screenshot({ path: resolve(OUTPUT, 'sign-in.png') });
    // The keyboard alone: Enter in the password field submits the form.
    await page.getByLabel('Password').press('Enter');

    await page.waitForURL(/\/consent\?/);
    expect(await page.getByRole('heading').textContent()).toBe(`Allow ${PARTNER}?`);
    await page.screenshot({ path: resolve(OUTPUT, 'consent.png') });
    await page.getByRole('button', { name: 'Allow' }).click();

    const callback = await arrival();
    expect(callback.searchParams.get('iss')).toBe(service.url);
    const tokens = await client.authorizationCodeGrant(relyingParty, callback, {
      pkceCodeVerifier: request.codeVerifier,
      expectedNonce: request.nonce,
      expectedState: request.state,
      idTokenExpected: true,
    });
    const idToken = tokens.id_token as string;
    expect(await signatureValid(idToken)).toBe(true);
    const claims = tokens.claims();
    expect(claims).toMatchObject({ iss: service.url, aud: PARTNER, nonce: request.nonce });
    expect(typeof claims?.auth_time).toBe('number');
    const digest = createHash('sha256').update(tokens.access_token).digest();
    expect(claims?.['at_hash']).toBe(digest.subarray(0, 16).toString('base64url'));

    const userInfo = await client.fetchUserInfo(
      relyingParty,
      tokens.access_token,
      claims?.sub as string,
    );
    expect(userInfo).toMatchObject({ sub: claims?.sub, email: user.email });

    const refreshed = await client.refreshTokenGrant(relyingParty, tokens.refresh_token as string);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

    // The second authorization needs no page: the browser is signed in and consent remembered.
    const again = await authorizationRequest();
    await page.goto(again.url.href);
    expect((await arrival()).searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const logout = client.buildEndSessionUrl(relyingParty, {
      id_token_hint: idToken,
      post_logout_redirect_uri: SIGNED_OUT,
      state: 'signed-out-state',
    });
    await page.goto(logout.href);
    const signedOut = await arrival();
    expect(`${signedOut.origin}${signedOut.pathname}`).toBe(SIGNED_OUT);
    expect(signedOut.searchParams.get('state')).toBe('signed-out-state');

    // The token session is over: auth-service refuses the access token, and the revocation feed
    // (what every resource service follows) carries the session.
    const refused = await fetch(relyingParty.serverMetadata().userinfo_endpoint as string, {
      headers: { authorization: `Bearer ${refreshed.access_token}` },
    });
    expect(refused.status).toBe(401);
    const sid = jwtParts(refreshed.access_token).claims['sid'];
    expect(
      await service.app
        .get(DataSource)
        .query(`SELECT kind FROM revocations WHERE session_id = $1`, [sid]),
    ).toEqual([{ kind: 'session' }]);
    await expect(
      client.refreshTokenGrant(relyingParty, refreshed.refresh_token as string),
    ).rejects.toThrow();
    // Signed out: the next authorization asks for the password again.
    await page.goto((await authorizationRequest()).url.href);
    await page.waitForURL(/\/signin\?/);
  });

  it('lets the client catch a tampered state', async () => {
    const user = await newUser();
    await context.clearCookies();
    const request = await authorizationRequest();
    await page.goto(request.url.href);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    const callback = await arrival();
    const tampered = new URL(callback);
    tampered.searchParams.set('state', `${request.state}x`);
    const grant = (response: URL) =>
      client.authorizationCodeGrant(relyingParty, response, {
        pkceCodeVerifier: request.codeVerifier,
        expectedNonce: request.nonce,
        expectedState: request.state,
      });
    const refused = await grant(tampered).then(
      () => undefined,
      (error: unknown) => error as Error & { cause?: unknown },
    );
    expect((refused?.cause as Error | undefined)?.message).toMatch(/"state"/);
    // The client refused before it spent the code: the untampered response still works.
    expect((await grant(callback)).access_token).toBeTruthy();
  });

  it('refuses a code after 60 seconds, with the clock moved on', async () => {
    const request = await authorizationRequest();
    await page.goto(request.url.href);
    const callback = await arrival();
    const clock = service.app.get(Clock);
    const spy = jest.spyOn(clock, 'now').mockReturnValue(new Date(Date.now() + 61_000));
    try {
      await expect(
        client.authorizationCodeGrant(relyingParty, callback, {
          pkceCodeVerifier: request.codeVerifier,
          expectedNonce: request.nonce,
          expectedState: request.state,
        }),
      ).rejects.toMatchObject({ error: 'invalid_grant' });
    } finally {
      spy.mockRestore();
    }
  });

  it('asks an account with TOTP for a code after its password, and acr_values for one from a password-only session', async () => {
    const user = await newUser();
    await context.clearCookies();
    const clock = service.app.get(Clock);
    let offset = 0;
    // Each code in a step of its own (a code is accepted once): the service's clock moves on.
    const spy = jest.spyOn(clock, 'now').mockImplementation(() => new Date(Date.now() + offset));
    const nextCode = (secret: string) => {
      offset += 30_000;
      return new TOTP({ secret: Secret.fromBase32(secret) }).generate({
        timestamp: Date.now() + offset,
      });
    };
    const exchange = async (request: Awaited<ReturnType<typeof authorizationRequest>>) => {
      const tokens = await client.authorizationCodeGrant(relyingParty, await arrival(), {
        pkceCodeVerifier: request.codeVerifier,
        expectedNonce: request.nonce,
        expectedState: request.state,
      });
      return {
        id: tokens.claims(),
        access: jwtParts(tokens.access_token).claims,
        accessToken: tokens.access_token,
      };
    };
    try {
      // Signed in with the password alone, before the account had a factor.
      const plain = await authorizationRequest();
      await page.goto(plain.url.href);
      await page.getByLabel('Email').fill(user.email);
      await page.getByLabel('Password').fill(user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Allow' }).click();
      const plainTokens = await exchange(plain);
      expect(plainTokens.id).toMatchObject({ amr: ['pwd'], acr: 'urn:tessera:acr:sfa' });

      // Without a factor to ask for, acr_values (a voluntary request) does not stop the flow:
      // the ID token says what the sign-in reached.
      const mfa = { acr_values: 'urn:tessera:acr:mfa' };
      const voluntary = await authorizationRequest(mfa);
      await page.goto(voluntary.url.href);
      expect((await exchange(voluntary)).id).toMatchObject({ acr: 'urn:tessera:acr:sfa' });

      // Another browser signs in with the password alone too.
      const secondBrowser = await browser.newContext();
      const other = await secondBrowser.newPage();
      const atPartner = async () => {
        await other.waitForURL((url) => url.href.startsWith(partnerUrl), { timeout: 15_000 });
        return new URL(other.url());
      };
      await other.goto((await authorizationRequest()).url.href);
      await other.getByLabel('Email').fill(user.email);
      await other.getByLabel('Password').fill(user.password);
      await other.getByRole('button', { name: 'Sign in' }).click();
      expect((await atPartner()).searchParams.get('code')).toBeTruthy();

      // Then the account enrols an authenticator app (the JSON API), with the token this
      // browser's sign-in gave the client: a first factor ends every other sign-in of the user,
      // but this one and the page session it came from.
      const bearer = { authorization: `Bearer ${plainTokens.accessToken}` };
      const enrolment = await fetch(`${service.url}/auth/mfa/totp`, {
        method: 'POST',
        headers: bearer,
      });
      const { secret } = (await enrolment.json()) as { secret: string };
      const confirmed = await fetch(`${service.url}/auth/mfa/totp/confirm`, {
        method: 'POST',
        headers: { ...bearer, 'content-type': 'application/json' },
        body: JSON.stringify({ code: nextCode(secret) }),
      });
      expect(confirmed.status).toBe(200);
      // The other browser's password-only page session ended with it: nobody is signed in there.
      await other.goto((await authorizationRequest({ prompt: 'none' })).url.href);
      expect((await atPartner()).searchParams.get('error')).toBe('login_required');
      await secondBrowser.close();

      // acr_values asks for a second factor: without a page (prompt=none) the client learns
      // login_required; with one, the browser's password-only session is asked for a code.
      await page.goto((await authorizationRequest({ ...mfa, prompt: 'none' })).url.href);
      expect((await arrival()).searchParams.get('error')).toBe('login_required');
      const stepUp = await authorizationRequest(mfa);
      await page.goto(stepUp.url.href);
      await page.waitForURL(/\/signin\/second-factor\?/);
      await page.getByLabel('Code').fill(nextCode(secret));
      await page.getByRole('button', { name: 'Continue' }).click();
      const steppedUp = await exchange(stepUp);
      expect(steppedUp.id).toMatchObject({
        amr: ['pwd', 'otp', 'mfa'],
        acr: 'urn:tessera:acr:mfa',
      });
      expect(steppedUp.access).toMatchObject({
        amr: ['pwd', 'otp', 'mfa'],
        acr: 'urn:tessera:acr:mfa',
      });

      // Signed out, the password leads to the code page; a wrong code is refused there.
      await context.clearCookies();
      const again = await authorizationRequest();
      await page.goto(again.url.href);
      await page.getByLabel('Email').fill(user.email);
      await page.getByLabel('Password').fill(user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor();
      expect(await context.cookies()).not.toContainEqual(
        expect.objectContaining({ name: '__Host-tessera_session' }),
      );
      await page.screenshot({ path: resolve(OUTPUT, 'second-factor.png') });
      // Chromium keeps the cookie binding the pending sign-in to it, for /signin only.
      expect(await context.cookies(`${service.url}/signin/second-factor`)).toContainEqual(
        expect.objectContaining({
          name: '__Secure-tessera_pending',
          path: '/signin',
          httpOnly: true,
          secure: true,
          sameSite: 'Strict',
        }),
      );
      // The form's token leaked to another browser: with the right code there, it is refused.
      const leaked = await page.locator('input[name="mfa_token"]').first().inputValue();
      const otherBrowser = await browser.newContext();
      try {
        const other = await otherBrowser.newPage();
        await other.goto(`${service.url}/signin`);
        // Its own sign-in form (and CSRF token), turned into the leaked second-factor form.
        const form = other.locator('form').first();
        await form.evaluate((element, mfaToken) => {
          const target = element as unknown as {
            action: string;
            insertAdjacentHTML(position: string, html: string): void;
          };
          target.action = '/signin/second-factor';
          target.insertAdjacentHTML(
            'beforeend',
            `<input name="mfa_token" value="${mfaToken}"><input name="code" id="stolen-code">`,
          );
        }, leaked);
        await other.locator('#stolen-code').fill(nextCode(secret));
        const refused = other.waitForResponse((response) =>
          response.url().endsWith('/signin/second-factor'),
        );
        await form.evaluate((element) => (element as unknown as { submit(): void }).submit());
        expect((await refused).status()).toBe(403);
        await expect(other.getByRole('alert').textContent()).resolves.toContain(
          'started in another browser',
        );
        expect(await otherBrowser.cookies()).not.toContainEqual(
          expect.objectContaining({ name: '__Host-tessera_session' }),
        );
      } finally {
        await otherBrowser.close();
      }
      await page.getByLabel('Code').fill('000000');
      await page.getByRole('button', { name: 'Continue' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toContain('not correct');
      await page.screenshot({ path: resolve(OUTPUT, 'second-factor-refused.png') });
      await page.getByLabel('Code').fill(nextCode(secret));
      await page.getByRole('button', { name: 'Continue' }).click();
      // The code is traded 20 seconds after the sign-in: both tokens say when the page signed in.
      await arrival();
      offset += 20_000;
      const withCode = await exchange(again);
      expect(withCode.id).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], acr: 'urn:tessera:acr:mfa' });
      expect(withCode.access['amr']).toEqual(['pwd', 'otp', 'mfa']);
      expect(withCode.access['auth_time']).toBe(withCode.id?.auth_time);
      expect(withCode.access['iat'] as number).toBeGreaterThanOrEqual(
        (withCode.access['auth_time'] as number) + 19,
      );
    } finally {
      spy.mockRestore();
      await context.clearCookies();
    }
  }, 120_000);

  it('is not shown inside a frame of another origin', async () => {
    const response = await page.request.get(`${service.url}/signin`);
    expect(response.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(response.headers()['x-frame-options']).toBe('DENY');
    const refusal = page.waitForEvent('console', {
      predicate: (message) => /frame-ancestors/.test(message.text()),
      timeout: 15_000,
    });
    await page.goto(`${partnerUrl}/framer`);
    expect((await refusal).text()).toContain("frame-ancestors 'none'");
    const frame = page.frames().find((candidate) => candidate !== page.mainFrame());
    expect(await frame?.locator('#email').count()).toBe(0);
  });
});
