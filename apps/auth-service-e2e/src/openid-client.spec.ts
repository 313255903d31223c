import { createTestDatabase, ServiceProcess } from '@tessera/platform-testing';
import * as client from 'openid-client';
import type { Configuration } from 'openid-client';
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { resolve } from 'node:path';

// An independent, certified OAuth client library drives auth-service through its published
// metadata alone: nothing below knows an endpoint path except the first-party login, which is
// Tessera's own (the browser flow through the authorization endpoint has its own test, with
// Chromium: apps/auth-service/src/pages/hosted-pages.browser.spec.ts).
const PORT = 13031;
const url = `http://127.0.0.1:${PORT}`;
const main = resolve(__dirname, '../../../dist/apps/auth-service/main.js');
const FIRST_PARTY = 'tessera-first-party';
const RESOURCE_SERVICE = 'resource-service';
const resourceServiceSecret = randomBytes(32).toString('base64url');
// The test server is plain HTTP on loopback; this is openid-client's own switch for that.
const execute = [client.allowInsecureRequests];

let service: ServiceProcess;
/** resource-service, authenticating with client_secret_basic, from the OpenID discovery document. */
let resourceService: Configuration;
/** resource-service, authenticating with client_secret_post, from the RFC 8414 metadata. */
let resourceServicePost: Configuration;
/** Tessera's own front ends: a public client, authenticating with nothing but its id. */
let firstParty: Configuration;
const secrets: string[] = [resourceServiceSecret];

interface LoginResponse {
  access_token: string;
  refresh_token: string;
  id_token: string;
  scope: string;
}

function decodeJwt(token: string) {
  const [header = '', payload = '', signature = ''] = token.split('.');
  const json = (part: string) =>
    JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;
  return {
    header: json(header),
    claims: json(payload),
    signingInput: `${header}.${payload}`,
    signature: Buffer.from(signature, 'base64url'),
  };
}

let counter = 0;
/** A new user signed in through Tessera's first-party login, asking for an ID token. */
async function signIn(): Promise<LoginResponse> {
  counter += 1;
  const email = `oidc-user${counter}-${Date.now()}@example.com`;
  const password = `correct horse battery ${counter}`;
  secrets.push(password);
  const post = (path: string, body: unknown) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  expect((await post('/auth/register', { email, password })).status).toBe(201);
  // For /userinfo (auth-service) and for resource-service, which introspects the tokens below.
  const login = await post('/auth/login', {
    email,
    password,
    scope: 'openid notes:read',
    resource: ['auth-service', 'resource-service'],
  });
  expect(login.status).toBe(200);
  const tokens = (await login.json()) as LoginResponse;
  secrets.push(tokens.access_token, tokens.refresh_token, tokens.id_token);
  return tokens;
}

/** A refresh through openid-client; auth-service rotates, so a new refresh token must come back. */
async function refresh(refreshToken: string) {
  const tokens = await client.refreshTokenGrant(firstParty, refreshToken);
  const { refresh_token: successor } = tokens;
  if (successor === undefined) throw new Error('The refresh answered without a refresh token');
  secrets.push(tokens.access_token, successor);
  return { ...tokens, refresh_token: successor };
}

/** The OAuth error response openid-client turned `operation`'s failure into. */
async function oauthError(operation: Promise<unknown>): Promise<client.ResponseBodyError> {
  const error: unknown = await operation.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(client.ResponseBodyError);
  return error as client.ResponseBodyError;
}

beforeAll(async () => {
  service = await ServiceProcess.start({
    main,
    url,
    env: {
      NODE_ENV: 'test',
      PORT: String(PORT),
      ISSUER: url,
      DATABASE_URL: await createTestDatabase('oidc_client'),
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      CLIENT_SECRETS: `${RESOURCE_SERVICE}=${resourceServiceSecret}`,
      // No grace for retries: a spent refresh token is refused at once, as a client sees it.
      REFRESH_REUSE_GRACE: '0',
      LOG_LEVEL: 'debug',
    },
  });
  const issuer = new URL(url);
  resourceService = await client.discovery(
    issuer,
    RESOURCE_SERVICE,
    resourceServiceSecret,
    client.ClientSecretBasic(resourceServiceSecret),
    { execute },
  );
  resourceServicePost = await client.discovery(
    issuer,
    RESOURCE_SERVICE,
    resourceServiceSecret,
    client.ClientSecretPost(resourceServiceSecret),
    { execute, algorithm: 'oauth2' },
  );
  firstParty = await client.discovery(issuer, FIRST_PARTY, undefined, client.None(), { execute });
});

afterAll(async () => {
  expect(await service.stop()).toBe(0);
});

describe('auth-service driven by openid-client', () => {
  it('publishes the same metadata for OpenID discovery and RFC 8414, naming ISSUER byte for byte', () => {
    const metadata = resourceService.serverMetadata();
    expect(metadata.issuer).toBe(url);
    expect(metadata).toMatchObject({
      token_endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:13031\//),
      revocation_endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:13031\//),
      introspection_endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:13031\//),
    });
    expect(resourceServicePost.serverMetadata()).toEqual(metadata);
  });

  it('grants resource-service a client-credentials token for auth-service, without a refresh token', async () => {
    const tokens = await client.clientCredentialsGrant(resourceService);
    secrets.push(tokens.access_token);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBe(300);
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.scope).toBe('tokens:introspect revocations:read');

    const { header, claims } = decodeJwt(tokens.access_token);
    expect(header).toMatchObject({ typ: 'at+jwt' });
    expect(claims).toMatchObject({ iss: url, sub: RESOURCE_SERVICE, client_id: RESOURCE_SERVICE });
    expect(claims['aud']).toEqual(expect.arrayContaining(['auth-service']));
    expect(claims).not.toHaveProperty('sid');
  });

  it('refreshes a user session through the token endpoint as the public first-party client', async () => {
    const login = await signIn();
    const tokens = await refresh(login.refresh_token);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.access_token).not.toBe(login.access_token);
    expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokens.refresh_token).not.toBe(login.refresh_token);
    expect(tokens.scope).toBe('openid notes:read');
    expect(decodeJwt(tokens.access_token).claims).toMatchObject({
      client_id: FIRST_PARTY,
      sid: decodeJwt(login.access_token).claims['sid'],
    });
  });

  it('refuses a spent refresh token with invalid_grant, and ends the session it came from', async () => {
    const login = await signIn();
    const successor = await refresh(login.refresh_token);

    const replay = await oauthError(client.refreshTokenGrant(firstParty, login.refresh_token));
    expect(replay.error).toBe('invalid_grant');
    expect(replay.status).toBe(400);
    const next = await oauthError(client.refreshTokenGrant(firstParty, successor.refresh_token));
    expect(next.error).toBe('invalid_grant');
  });

  it("introspects a user's access token for resource-service, to which it is addressed", async () => {
    const login = await signIn();
    const tokens = await refresh(login.refresh_token);
    const claims = decodeJwt(tokens.access_token).claims;
    const introspection = await client.tokenIntrospection(resourceService, tokens.access_token);
    expect(introspection).toMatchObject({
      active: true,
      sub: claims['sub'],
      client_id: FIRST_PARTY,
      scope: 'openid notes:read',
      exp: claims['exp'],
      iat: claims['iat'],
      iss: url,
      aud: expect.arrayContaining(['resource-service']),
    });
    await expect(
      client.tokenIntrospection(resourceServicePost, tokens.access_token),
    ).resolves.toMatchObject({ active: true, sub: claims['sub'] });
  });

  it('lets no public client introspect, not even its own refresh token', async () => {
    const login = await signIn();
    const refused = await oauthError(client.tokenIntrospection(firstParty, login.refresh_token));
    expect(refused.error).toBe('invalid_client');
    expect(refused.status).toBe(401);
  });

  it("answers exactly { active: false } for garbage and for another client's refresh token", async () => {
    const login = await signIn();
    await expect(client.tokenIntrospection(resourceService, 'not-a-token')).resolves.toEqual({
      active: false,
    });
    await expect(client.tokenIntrospection(resourceService, login.refresh_token)).resolves.toEqual({
      active: false,
    });
  });

  it('revokes a refresh token for the public client, ending its session and access token', async () => {
    const login = await signIn();
    const tokens = await refresh(login.refresh_token);
    await expect(
      client.tokenIntrospection(resourceService, tokens.access_token),
    ).resolves.toMatchObject({ active: true });

    await expect(client.tokenRevocation(firstParty, tokens.refresh_token)).resolves.toBeUndefined();
    const refused = await oauthError(client.refreshTokenGrant(firstParty, tokens.refresh_token));
    expect(refused.error).toBe('invalid_grant');
    await expect(client.tokenIntrospection(resourceService, tokens.access_token)).resolves.toEqual({
      active: false,
    });
  });

  it('answers userinfo for an access token with openid, for the subject of the ID token', async () => {
    const login = await signIn();
    const subject = decodeJwt(login.id_token).claims['sub'] as string;
    await expect(client.fetchUserInfo(firstParty, login.access_token, subject)).resolves.toEqual({
      sub: subject,
    });
  });

  it("signs the login's ID token for the first-party client with a key in the discovered JWKS", async () => {
    const login = await signIn();
    const jwt = decodeJwt(login.id_token);
    expect(jwt.header).toEqual({ alg: 'ES256', typ: 'JWT', kid: expect.any(String) });
    expect(jwt.claims).toEqual({
      iss: url,
      sub: decodeJwt(login.access_token).claims['sub'],
      aud: FIRST_PARTY,
      exp: expect.any(Number),
      iat: expect.any(Number),
      auth_time: expect.any(Number),
      amr: ['pwd'],
      acr: 'urn:tessera:acr:sfa',
      sid: decodeJwt(login.access_token).claims['sid'],
    });
    const { exp, iat, auth_time: authTime } = jwt.claims as Record<string, number>;
    expect(exp - iat).toBe(900);
    expect(authTime).toBeLessThanOrEqual(iat);
    expect(Math.abs(iat - Date.now() / 1000)).toBeLessThan(60);

    const jwksUri = String(firstParty.serverMetadata().jwks_uri);
    expect(jwksUri).toBe(`${url}/.well-known/jwks.json`);
    const { keys } = (await (await fetch(jwksUri)).json()) as {
      keys: (JsonWebKey & { kid: string })[];
    };
    const jwk = keys.find((key) => key.kid === jwt.header['kid']);
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', use: 'sig' });
    const valid = verify(
      'sha256',
      Buffer.from(jwt.signingInput),
      {
        key: createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }),
        dsaEncoding: 'ieee-p1363',
      },
      jwt.signature,
    );
    expect(valid).toBe(true);
  });

  it('never writes a client secret, a token or a password to its logs', () => {
    expect(secrets.length).toBeGreaterThan(20);
    const leaked = secrets.filter((secret) => secret.length >= 8 && service.logs.includes(secret));
    expect(leaked).toEqual([]);
  });
});
