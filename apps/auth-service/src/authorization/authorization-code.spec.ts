import { Clock } from '@tessera/auth-token';
import { DataSource } from 'typeorm';
import { createIssuerTestApplication } from './authorization-test-application.spec-helper';
import type { IssuerTestApplication } from './authorization-test-application.spec-helper';
import { PageClient, pkcePair } from './page-client.spec-helper';

const WEB = 'web';
const WEB_CALLBACK = 'http://localhost:4200/callback';
const PARTNER = 'partner-app';
const PARTNER_CALLBACK = 'https://partner.example/callback';

let service: IssuerTestApplication;
let counter = 0;

async function newUser(): Promise<{ email: string; password: string }> {
  counter += 1;
  const user = {
    email: `code-user${counter}-${Date.now()}@example.com`,
    password: `correct horse battery ${counter}`,
  };
  const response = await fetch(`${service.url}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(user),
  });
  expect(response.status).toBe(201);
  return user;
}

function authorizeUrl(parameters: Record<string, string | string[]>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    for (const item of ([] as string[]).concat(value)) query.append(name, item);
  }
  return `/oauth/authorize?${query}`;
}

function webRequest(challenge: string, extra: Record<string, string | string[]> = {}) {
  return {
    response_type: 'code',
    client_id: WEB,
    redirect_uri: WEB_CALLBACK,
    scope: 'openid email notes:read',
    state: 'state-123',
    nonce: 'nonce-456',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  };
}

/** Signs in on the hosted page and follows the flow to the client's redirect URI. */
async function signInAndAuthorize(
  browser: PageClient,
  user: { email: string; password: string },
  url: string,
): Promise<URL> {
  const toSignIn = await browser.get(url);
  expect(toSignIn.status).toBe(302);
  const signedIn = await browser.submit(toSignIn.headers.get('location') as string, user);
  expect(signedIn.status).toBe(303);
  return follow(browser, signedIn.headers.get('location') as string);
}

async function follow(browser: PageClient, url: string): Promise<URL> {
  const response = await browser.get(url);
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location') as string);
}

function token(form: Record<string, string>): Promise<Response> {
  return fetch(`${service.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
}

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

/** A code for the web client, with its verifier, for a fresh user. */
async function webCode(extra: Record<string, string> = {}) {
  const pkce = pkcePair();
  const browser = new PageClient(service.url);
  const callback = await signInAndAuthorize(
    browser,
    await newUser(),
    authorizeUrl(webRequest(pkce.challenge, extra)),
  );
  return {
    code: callback.searchParams.get('code') as string,
    verifier: pkce.verifier,
    browser,
    callback,
  };
}

function exchange(code: string, verifier: string, extra: Record<string, string> = {}) {
  return token({
    grant_type: 'authorization_code',
    client_id: WEB,
    code,
    redirect_uri: WEB_CALLBACK,
    code_verifier: verifier,
    ...extra,
  });
}

beforeAll(async () => {
  service = await createIssuerTestApplication();
  await service.app.get(DataSource).query(
    `INSERT INTO clients (id, type, grant_types, scopes, audiences, default_audiences, redirect_uris, post_logout_redirect_uris)
     VALUES ($1, 'public', '{authorization_code,refresh_token}', '{openid,notes:read}', '{resource-service}', '{resource-service}', $2, '{}')`,
    [PARTNER, [PARTNER_CALLBACK]],
  );
}, 120_000);
afterAll(() => service?.close());

describe('discovery', () => {
  it('advertises the authorization-code flow exactly as implemented', async () => {
    const metadata = (await (
      await fetch(`${service.url}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      authorization_endpoint: `${service.url}/oauth/authorize`,
      end_session_endpoint: `${service.url}/oauth/end_session`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    });
  });
});

describe('GET /oauth/authorize and the code exchange', () => {
  it('signs in on the page, redirects with code, state and iss, and exchanges the code once', async () => {
    const { code, verifier, callback } = await webCode();
    expect(`${callback.origin}${callback.pathname}`).toBe(WEB_CALLBACK);
    expect(callback.searchParams.get('state')).toBe('state-123');
    expect(callback.searchParams.get('iss')).toBe(service.url);
    const response = await exchange(code, verifier);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const tokens = (await response.json()) as Record<string, string>;
    expect(tokens).toMatchObject({ token_type: 'Bearer', scope: 'openid email notes:read' });
    expect(tokens['refresh_token']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const idToken = claimsOf(tokens['id_token'] as string);
    expect(idToken).toMatchObject({
      iss: service.url,
      aud: WEB,
      nonce: 'nonce-456',
      email_verified: false,
    });
    expect(typeof idToken['auth_time']).toBe('number');
    expect(idToken['at_hash']).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(claimsOf(tokens['access_token'] as string)).toMatchObject({
      client_id: WEB,
      aud: ['resource-service'],
    });
  });

  it('refuses a replayed code and revokes what its first exchange issued', async () => {
    const { code, verifier } = await webCode();
    const first = (await (await exchange(code, verifier)).json()) as Record<string, string>;
    const replay = await exchange(code, verifier);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
    const refresh = await token({
      grant_type: 'refresh_token',
      client_id: WEB,
      refresh_token: first['refresh_token'] as string,
    });
    expect(refresh.status).toBe(400);
    const introspected = await service.app
      .get(DataSource)
      .query(`SELECT revoked_reason FROM sessions WHERE id = $1`, [
        claimsOf(first['access_token'] as string)['sid'],
      ]);
    expect(introspected).toEqual([{ revoked_reason: 'revoked' }]);
  });

  it('refuses a wrong verifier, another redirect URI and another client, and spends the code', async () => {
    const wrongVerifier = await webCode();
    expect(await (await exchange(wrongVerifier.code, pkcePair().verifier)).json()).toMatchObject({
      error: 'invalid_grant',
    });
    expect((await exchange(wrongVerifier.code, wrongVerifier.verifier)).status).toBe(400);

    const otherUri = await webCode();
    const redirect = await exchange(otherUri.code, otherUri.verifier, {
      redirect_uri: 'http://localhost:4200/callback/',
    });
    expect(await redirect.json()).toMatchObject({ error: 'invalid_grant' });

    const otherClient = await webCode();
    const partner = await token({
      grant_type: 'authorization_code',
      client_id: PARTNER,
      code: otherClient.code,
      redirect_uri: WEB_CALLBACK,
      code_verifier: otherClient.verifier,
    });
    expect(await partner.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a code after its 60 seconds', async () => {
    const { code, verifier } = await webCode();
    const clock = service.app.get(Clock);
    const later = new Date(Date.now() + 61_000);
    const spy = jest.spyOn(clock, 'now').mockReturnValue(later);
    try {
      expect(await (await exchange(code, verifier)).json()).toMatchObject({
        error: 'invalid_grant',
      });
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses the request without PKCE, or with plain PKCE, at the redirect URI', async () => {
    const browser = new PageClient(service.url);
    const { challenge } = pkcePair();
    const refused: Record<string, string>[] = [
      { code_challenge: '' },
      { code_challenge_method: 'plain' },
      { code_challenge_method: '' },
    ];
    for (const extra of refused) {
      const location = await follow(browser, authorizeUrl(webRequest(challenge, extra)));
      expect(`${location.origin}${location.pathname}`).toBe(WEB_CALLBACK);
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('state')).toBe('state-123');
      expect(location.searchParams.get('iss')).toBe(service.url);
    }
    const implicit = await follow(
      browser,
      authorizeUrl(webRequest(challenge, { response_type: 'token' })),
    );
    expect(implicit.searchParams.get('error')).toBe('unsupported_response_type');
    const scope = await follow(
      browser,
      authorizeUrl(webRequest(challenge, { scope: 'openid admin' })),
    );
    expect(scope.searchParams.get('error')).toBe('invalid_scope');
    const target = await follow(
      browser,
      authorizeUrl(webRequest(challenge, { resource: 'elsewhere' })),
    );
    expect(target.searchParams.get('error')).toBe('invalid_target');
  });

  it.each([
    ['a prefix', 'http://localhost:4200/call'],
    ['an extra path', 'http://localhost:4200/callback/evil'],
    ['another port', 'http://localhost:4201/callback'],
    ['a fragment', 'http://localhost:4200/callback#x'],
    ['a user-info trick', 'http://localhost:4200@evil.example/callback'],
    ['a trailing slash', 'http://localhost:4200/callback/'],
    ['another client’s URI', PARTNER_CALLBACK],
  ])('shows an error page, never a redirect, for %s', async (_name, redirectUri) => {
    const response = await new PageClient(service.url).get(
      authorizeUrl(webRequest(pkcePair().challenge, { redirect_uri: redirectUri })),
    );
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('The redirect_uri is not registered for this client');
  });

  it('answers a NUL in a parameter it stores (nonce) with invalid_request at the redirect URI, never 500', async () => {
    const browser = new PageClient(service.url);
    const { challenge } = pkcePair();
    await signInAndAuthorize(browser, await newUser(), authorizeUrl(webRequest(challenge)));
    const refused = await follow(
      browser,
      authorizeUrl(webRequest(challenge, { nonce: 'nonce\u0000456' })),
    );
    expect(`${refused.origin}${refused.pathname}`).toBe(WEB_CALLBACK);
    expect(refused.searchParams.get('error')).toBe('invalid_request');
    expect(refused.searchParams.get('code')).toBeNull();
  });

  it('shows an error page for an unknown client', async () => {
    const response = await new PageClient(service.url).get(
      authorizeUrl(webRequest(pkcePair().challenge, { client_id: 'nobody' })),
    );
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
  });

  it('answers prompt=none with login_required, and consent_required for a third-party client', async () => {
    const browser = new PageClient(service.url);
    const { challenge } = pkcePair();
    const login = await follow(browser, authorizeUrl(webRequest(challenge, { prompt: 'none' })));
    expect(login.searchParams.get('error')).toBe('login_required');
    const user = await newUser();
    await signInAndAuthorize(browser, user, authorizeUrl(webRequest(challenge)));
    const consent = await follow(
      browser,
      authorizeUrl(
        webRequest(challenge, {
          client_id: PARTNER,
          redirect_uri: PARTNER_CALLBACK,
          scope: 'openid',
          prompt: 'none',
        }),
      ),
    );
    expect(`${consent.origin}${consent.pathname}`).toBe(PARTNER_CALLBACK);
    expect(consent.searchParams.get('error')).toBe('consent_required');
  });
});

describe('prompt, max_age, login_hint and consent', () => {
  it('asks a signed-in browser for the password again with prompt=login or max_age=0, with a new cookie, then answers a code', async () => {
    const { browser } = await webCode();
    const user = await newUser();
    const again: Record<string, string>[] = [{ prompt: 'login' }, { max_age: '0' }];
    for (const extra of again) {
      const before = browser.cookies.get('__Host-tessera_session');
      const url = authorizeUrl(
        webRequest(pkcePair().challenge, { ...extra, login_hint: user.email }),
      );
      const toSignIn = await browser.get(url);
      const signInUrl = new URL(toSignIn.headers.get('location') as string);
      expect(signInUrl.pathname).toBe('/signin');
      expect(await (await browser.get(signInUrl.href)).text()).toContain(`value="${user.email}"`);
      const callback = await signInAndAuthorize(browser, user, url);
      expect(callback.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(browser.cookies.get('__Host-tessera_session')).not.toBe(before);
    }
  });

  it('ends the page session when the password changes elsewhere: the browser signs in again before any code', async () => {
    const browser = new PageClient(service.url);
    const user = await newUser();
    const { challenge } = pkcePair();
    await signInAndAuthorize(browser, user, authorizeUrl(webRequest(challenge)));
    const before = await follow(browser, authorizeUrl(webRequest(challenge)));
    expect(before.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const login = await fetch(`${service.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...user, resource: ['auth-service'] }),
    });
    const { access_token: accessToken } = (await login.json()) as { access_token: string };
    const changed = await fetch(`${service.url}/auth/password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({
        current_password: user.password,
        new_password: 'a new passphrase after a leak',
      }),
    });
    expect(changed.status).toBe(200);
    const after = await follow(browser, authorizeUrl(webRequest(challenge)));
    expect(after.pathname).toBe('/signin');
    expect(after.searchParams.get('code')).toBeNull();
  });

  it('sends access_denied when the user denies a third-party client, and remembers an allowed scope', async () => {
    const browser = new PageClient(service.url);
    const user = await newUser();
    const { challenge } = pkcePair();
    const partner = authorizeUrl(
      webRequest(challenge, {
        client_id: PARTNER,
        redirect_uri: PARTNER_CALLBACK,
        scope: 'openid',
      }),
    );
    const toConsent = await signInAndAuthorize(browser, user, partner);
    expect(toConsent.pathname).toBe('/consent');
    const denied = await browser.submit(toConsent.href, { decision: 'deny' });
    const deniedAt = new URL(denied.headers.get('location') as string);
    expect(`${deniedAt.origin}${deniedAt.pathname}`).toBe(PARTNER_CALLBACK);
    expect(deniedAt.searchParams.get('error')).toBe('access_denied');
    expect(deniedAt.searchParams.get('state')).toBe('state-123');
    const allowed = await browser.submit(toConsent.href, { decision: 'allow' });
    expect(
      (await follow(browser, allowed.headers.get('location') as string)).searchParams.get('code'),
    ).toBeTruthy();
    // Remembered: the next request goes straight back with a code.
    expect((await follow(browser, partner)).searchParams.get('code')).toBeTruthy();
  });
});

describe('the hosted pages', () => {
  it('refuses a form posted without its CSRF token', async () => {
    const browser = new PageClient(service.url);
    await browser.get('/signin');
    const user = await newUser();
    const response = await browser.post('/signin', { email: user.email, password: user.password });
    expect(response.status).toBe(403);
    expect(response.headers.get('set-cookie') ?? '').not.toContain('tessera_session');
  });

  it('sends a CSP without unsafe-inline that forbids framing, and HttpOnly __Host- cookies', async () => {
    const response = await new PageClient(service.url).get('/signin');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('set-cookie')).toMatch(
      /^__Host-tessera_csrf=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
  });

  it('answers a wrong password on the page as /auth/login does, without saying which part was wrong', async () => {
    const user = await newUser();
    const wrong = await new PageClient(service.url).submit('/signin', {
      email: user.email,
      password: 'not the password',
    });
    const unknown = await new PageClient(service.url).submit('/signin', {
      email: `x${user.email}`,
      password: 'not the password',
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const text = (body: string) => body.replace(/value="[^"]*"/g, '');
    expect(text(await wrong.text())).toBe(text(await unknown.text()));
  });
});

describe('RP-initiated logout', () => {
  it('ends the browser session and its token sessions, and redirects to the registered URI', async () => {
    const { code, verifier, browser } = await webCode();
    const tokens = (await (await exchange(code, verifier)).json()) as Record<string, string>;
    const logout = await browser.get(
      `/oauth/end_session?${new URLSearchParams({ id_token_hint: tokens['id_token'] as string, post_logout_redirect_uri: 'http://localhost:4200/', state: 'bye' })}`,
    );
    expect(logout.status).toBe(303);
    expect(logout.headers.get('location')).toBe('http://localhost:4200/?state=bye');
    const refresh = await token({
      grant_type: 'refresh_token',
      client_id: WEB,
      refresh_token: tokens['refresh_token'] as string,
    });
    expect(refresh.status).toBe(400);
    const again = await browser.get(authorizeUrl(webRequest(pkcePair().challenge)));
    expect(new URL(again.headers.get('location') as string).pathname).toBe('/signin');
  });

  it('refuses an unregistered post_logout_redirect_uri with an error page', async () => {
    const { code, verifier, browser } = await webCode();
    const tokens = (await (await exchange(code, verifier)).json()) as Record<string, string>;
    const logout = await browser.get(
      `/oauth/end_session?${new URLSearchParams({ id_token_hint: tokens['id_token'] as string, post_logout_redirect_uri: 'http://localhost:4200/evil' })}`,
    );
    expect(logout.status).toBe(400);
    expect(logout.headers.get('location')).toBeNull();
  });
});
