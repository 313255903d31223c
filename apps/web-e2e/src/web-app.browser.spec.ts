import { createTestDatabase, ServiceProcess } from '@tessera/platform-testing';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page, Request } from 'playwright-core';

/**
 * The example web app (apps/web) as a person uses it, in headless Chromium, against the built
 * auth-service and resource-service: sign up and in on auth-service's hosted pages (authorization
 * code + PKCE), write a note and see it listed, the access token refreshed with rotation, sign
 * out (RP-initiated logout), and sign in again. Screenshots go to dist/test-output/web-e2e/.
 */

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
// CI always has it (.ci/run installs it), so there a missing browser fails the run.
const HAS_BROWSER = existsSync(CHROMIUM) || process.env['CI'] === 'true';
if (!HAS_BROWSER) {
  console.warn(
    `Skipping the web app's browser test: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
  );
}
const describeInBrowser = HAS_BROWSER ? describe : describe.skip;

const root = resolve(__dirname, '../../..');
const OUTPUT = resolve(root, 'dist/test-output/web-e2e');
const AUTH_PORT = 15301;
const RESOURCE_PORT = 15302;
const WEB_PORT = 15303;
const issuer = `http://127.0.0.1:${AUTH_PORT}`;
const resourceUrl = `http://127.0.0.1:${RESOURCE_PORT}`;
/**
 * The origin of the `web` client's registered redirect URI (apps/auth-service/registry.json).
 * Chromium maps it to this suite's port, so a developer's `npm start` may hold 4200 meanwhile.
 */
const WEB_ORIGIN = 'http://localhost:4200';
/** Short, so that the app's refresh (at three quarters of it) happens during the test. */
const ACCESS_TOKEN_TTL = 12;

let auth: ServiceProcess;
let resource: ServiceProcess;
let web: ServiceProcess;
let browser: Browser;
let page: Page;
/** What the page's console and the browser said went wrong (a CSP refusal would land here). */
const problems: string[] = [];
/** Every token request the page sent, and its answer, in order. */
const tokenRequests: Request[] = [];
const tokenAnswers: Promise<{ access_token: string; refresh_token: string }>[] = [];

beforeAll(async () => {
  const clientSecret = randomBytes(32).toString('base64url');
  const [authDatabase, resourceDatabase] = await Promise.all([
    createTestDatabase('web_auth'),
    createTestDatabase('web_resource'),
  ]);
  auth = await ServiceProcess.start({
    main: resolve(root, 'dist/apps/auth-service/main.js'),
    url: issuer,
    env: {
      NODE_ENV: 'test',
      PORT: String(AUTH_PORT),
      DATABASE_URL: authDatabase,
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ISSUER: issuer,
      CLIENT_SECRETS: `resource-service=${clientSecret}`,
      CORS_ORIGINS: WEB_ORIGIN,
      ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL),
    },
  });
  [resource, web] = await Promise.all([
    ServiceProcess.start({
      main: resolve(root, 'dist/apps/resource-service/main.js'),
      url: resourceUrl,
      env: {
        NODE_ENV: 'test',
        PORT: String(RESOURCE_PORT),
        DATABASE_URL: resourceDatabase,
        AUTH_ISSUER: issuer,
        AUTH_CLIENT_SECRET: clientSecret,
        CORS_ORIGINS: WEB_ORIGIN,
      },
    }),
    ServiceProcess.start({
      main: resolve(root, 'apps/web/server.mjs'),
      url: `http://127.0.0.1:${WEB_PORT}`,
      env: { PORT: String(WEB_PORT), ISSUER: issuer, RESOURCE_SERVICE_URL: resourceUrl },
    }),
  ]);
  if (!HAS_BROWSER) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', `--host-resolver-rules=MAP localhost:4200 127.0.0.1:${WEB_PORT}`],
  });
  page = await browser.newPage({ viewport: { width: 900, height: 760 } });
  page.on('console', (message) => {
    // The app's own; auth-service's pages have their own tests.
    if (message.type() === 'error' && message.location().url.startsWith(WEB_ORIGIN)) {
      problems.push(message.text());
    }
  });
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('request', (request) => {
    if (request.url() === `${issuer}/oauth/token`) tokenRequests.push(request);
  });
  // Read as it arrives: a body is gone once the page navigates away.
  page.on('response', (response) => {
    if (response.url() !== `${issuer}/oauth/token`) return;
    const answer = response.json();
    // Awaited by the test where it matters; one still unread when the browser closes is not.
    answer.catch(() => undefined);
    tokenAnswers.push(answer);
  });
});

afterAll(async () => {
  await browser?.close();
  // What started stops cleanly, the web app's server first.
  for (const service of [web, resource, auth].filter((started) => !!started)) {
    expect(await service.stop()).toBe(0);
  }
});

describe('the web app server', () => {
  it('serves the page under a strict content security policy: nothing inline, no framing', async () => {
    for (const path of ['/', '/callback', '/favicon.svg']) {
      const response = await fetch(`${web.url}${path}`);
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
      const policy = response.headers.get('content-security-policy') ?? '';
      expect(policy).toContain("default-src 'none'");
      expect(policy).toContain("script-src 'self';");
      expect(policy).toContain(`connect-src 'self' ${issuer} ${resourceUrl}`);
      expect(policy).toContain("frame-ancestors 'none'");
      expect(policy).not.toMatch(/unsafe-|\*|data:/);
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    }
    const page = await (await fetch(`${web.url}/`)).text();
    // Every script and style is a file of the build: no inline one the policy would refuse.
    expect(page).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
  });

  it("gives the page its settings from the server's environment, not from the build", async () => {
    const config = await (await fetch(`${web.url}/config.json`)).json();
    expect(config).toEqual({ issuer, clientId: 'web', notesUrl: `${resourceUrl}/` });
  });

  it('answers only the files of the build, and only to GET and HEAD', async () => {
    for (const path of ['/server.mjs', '/../server.mjs', '/%2e%2e/server.mjs', '/nope']) {
      expect({ path, status: (await fetch(`${web.url}${path}`)).status }).toEqual({
        path,
        status: 404,
      });
    }
    expect((await fetch(`${web.url}/`, { method: 'POST' })).status).toBe(405);
  });

  it('refuses a request target that is no URL with 400, and goes on serving', async () => {
    const statusLine = await new Promise<string>((done, fail) => {
      const socket = connect(WEB_PORT, '127.0.0.1', () =>
        socket.write('GET http://[ HTTP/1.1\r\nHost: localhost\r\n\r\n'),
      );
      socket.once('data', (chunk) => {
        done(chunk.toString().split('\r\n')[0] ?? '');
        socket.destroy();
      });
      socket.once('error', fail);
    });
    expect(statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect((await fetch(`${web.url}/health/live`)).status).toBe(200);
  });
});

describe('CORS for the web app', () => {
  /** A browser's preflight for a call from `origin`; the origin it is granted, if any. */
  const preflight = async (url: string, origin: string, method: string, headers: string) => {
    const response = await fetch(url, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': method,
        'access-control-request-headers': headers,
      },
    });
    return response.headers.get('access-control-allow-origin');
  };
  const others = ['http://localhost:4201', 'http://127.0.0.1:4200', 'https://evil.example'];

  it("grants resource-service's notes API to the web app's origin and to no other", async () => {
    const url = `${resourceUrl}/notes`;
    expect(await preflight(url, WEB_ORIGIN, 'POST', 'authorization,content-type')).toBe(WEB_ORIGIN);
    for (const origin of others) {
      expect({ origin, granted: await preflight(url, origin, 'POST', 'authorization') }).toEqual({
        origin,
        granted: null,
      });
    }
  });

  it("grants auth-service's discovery and token endpoints to the web app's origin and to no other", async () => {
    for (const origin of [WEB_ORIGIN, ...others]) {
      const discovery = await fetch(`${issuer}/.well-known/openid-configuration`, {
        headers: { origin },
      });
      // A form-encoded POST needs no preflight: the answer alone decides whether the page reads it.
      const token = await fetch(`${issuer}/oauth/token`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: 'web',
          refresh_token: 'x',
        }),
      });
      const expected = origin === WEB_ORIGIN ? WEB_ORIGIN : null;
      expect({
        origin,
        discovery: discovery.headers.get('access-control-allow-origin'),
        token: token.headers.get('access-control-allow-origin'),
      }).toEqual({ origin, discovery: expected, token: expected });
    }
  });
});

describeInBrowser('the web app in a browser', () => {
  // The suite's own databases: the address is free.
  const email = 'ada@example.com';
  const password = 'correct horse battery staple';

  /** The bearer token of the page's next call to resource-service's `method /notes`. */
  const nextNotesToken = (method: string) =>
    page
      .waitForRequest(
        (request) =>
          request.url().startsWith(`${resourceUrl}/notes`) && request.method() === method,
      )
      .then((request) => request.headers()['authorization']?.replace(/^Bearer /, ''));

  async function addNote(title: string, body: string): Promise<string | undefined> {
    await page.getByLabel('Title').fill(title);
    await page.getByLabel('Note').fill(body);
    const token = nextNotesToken('POST');
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.locator('#notes li', { hasText: title }).waitFor();
    return token;
  }

  /** The grant types of the token requests the page has sent so far. */
  const grants = () =>
    tokenRequests.map((request) => new URLSearchParams(request.postData() ?? '').get('grant_type'));

  it('signs up on the hosted page, writes a note and sees it listed, refreshes with rotation, signs out and in again', async () => {
    await page.goto(WEB_ORIGIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.origin === issuer);
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: resolve(OUTPUT, 'sign-in.png') });
    await page.getByRole('link', { name: 'Create one' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();

    // Back at the app, signed in, the code and state gone from the address bar.
    await page.getByText(`Signed in as ${email}`).waitFor();
    expect(page.url()).toBe(`${WEB_ORIGIN}/`);
    expect(grants()).toEqual(['authorization_code']);
    const first = await tokenAnswers[0];
    // Tokens in memory only: nothing the page stored holds one.
    const stored = await page.evaluate(
      'JSON.stringify([{ ...localStorage }, { ...sessionStorage }, document.cookie])',
    );
    expect(stored).toBe('[{},{},""]');

    const firstToken = await addNote('Milk', 'Two litres, semi-skimmed.');
    expect(await page.locator('#notes li strong').allTextContents()).toEqual(['Milk']);

    // Three quarters into the access token's life the app trades its refresh token for new ones.
    await until(() => tokenAnswers.length > 1, ACCESS_TOKEN_TTL * 2000);
    expect(grants().slice(0, 2)).toEqual(['authorization_code', 'refresh_token']);
    const refresh = tokenRequests[1] as Request;
    expect(new URLSearchParams(refresh.postData() ?? '').get('refresh_token')).toBe(
      first?.refresh_token,
    );
    const rotated = await tokenAnswers[1];
    expect(rotated?.refresh_token).toEqual(expect.any(String));
    expect(rotated?.refresh_token).not.toBe(first?.refresh_token);

    // The next call carries a token of the rotation, not the first one.
    const secondToken = await addNote('Bread', 'A sourdough loaf.');
    expect(secondToken).not.toBe(firstToken);
    expect(tokenAnswers.length).toBe(tokenRequests.length);
    const issued = await Promise.all(tokenAnswers);
    expect(issued.slice(1).map((answer) => answer.access_token)).toContain(secondToken);
    expect(await page.locator('#notes li strong').allTextContents()).toEqual(['Bread', 'Milk']);
    await page.screenshot({ path: resolve(OUTPUT, 'notes.png') });

    // Sign out: auth-service ends the session and sends the browser back to the app.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.origin === issuer || url.href === `${WEB_ORIGIN}/`);
    if (new URL(page.url()).origin === issuer) {
      await page.getByRole('button', { name: 'Sign out' }).click();
    }
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(page.url()).toBe(`${WEB_ORIGIN}/`);
    // The tokens the app held are dead: resource-service refuses its last access token within 2 s.
    const lastToken = await tokenAnswers.at(-1);
    const refused = async () =>
      (
        await fetch(`${resourceUrl}/notes`, {
          headers: { authorization: `Bearer ${lastToken?.access_token}` },
        })
      ).status === 401;
    await until(refused, 2000);

    // Signing in again asks for the password (the page session ended too), and the notes are there.
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText(`Signed in as ${email}`).waitFor();
    await page.locator('#notes li', { hasText: 'Milk' }).waitFor();
    expect(await page.locator('#notes li strong').allTextContents()).toEqual(['Bread', 'Milk']);
    expect(problems).toEqual([]);
  });
});

/** Resolves once `condition` holds, asking every 100 ms; fails after `timeoutMs`. */
async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Not so within ${timeoutMs} ms: ${condition}`);
    await new Promise((wait) => setTimeout(wait, 100));
  }
}
