import { createTestApplication } from '@tessera/platform-testing';
import type { TestApplication } from '@tessera/platform-testing';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppModule } from '../app.module';
import { ClientsService } from '../clients/clients.service';
import { Clock } from '@tessera/auth-token';
import { authServiceConfig } from '../config/auth-service.config';

const SERVICE_SECRET = randomBytes(32).toString('base64url');
const FIRST_PARTY = 'tessera-first-party';

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

function decode(token: string, part: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[part] ?? '', 'base64url').toString());
}

function basic(id: string, secret: string): string {
  const encode = (text: string) => encodeURIComponent(text).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

describe('the OAuth endpoints over HTTP on real PostgreSQL', () => {
  let service: TestApplication;
  let database: DataSource;
  let accounts = 0;

  async function form(
    path: string,
    params: Record<string, string | string[]>,
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      for (const item of [value].flat()) body.append(name, item);
    }
    const response = await fetch(`${service.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: body.toString(),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : {},
    };
  }

  async function json(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<Reply> {
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: {
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...(token && { authorization: `Bearer ${token}` }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : {},
    };
  }

  /** A new user's email and password, registered. */
  async function account(): Promise<{ email: string; password: string }> {
    accounts += 1;
    const credentials = {
      email: `oauth${accounts}@example.com`,
      password: `a long passphrase ${accounts}`,
    };
    expect((await json('POST', '/auth/register', credentials)).status).toBe(201);
    return credentials;
  }

  /** A new user, logged in: the first-party tokens, for `resource` when given. */
  async function login(scope?: string, resource?: string): Promise<Record<string, string>> {
    const reply = await json('POST', '/auth/login', {
      ...(await account()),
      ...(scope && { scope }),
      ...(resource && { resource }),
    });
    expect(reply.status).toBe(200);
    return reply.body as Record<string, string>;
  }

  /**
   * Refreshes as the first-party client once the reuse grace window (REFRESH_REUSE_GRACE, 10 s)
   * is over: had `refreshToken` been spent, this would be reuse, and its session would end.
   */
  async function refreshAfterGrace(refreshToken: string): Promise<Reply> {
    const clock = jest
      .spyOn(service.app.get(Clock), 'now')
      .mockImplementation(() => new Date(Date.now() + 11_000));
    try {
      return await form('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: FIRST_PARTY,
      });
    } finally {
      clock.mockRestore();
    }
  }

  const service_ = { authorization: basic('resource-service', SERVICE_SECRET) };
  const clientCredentials = (extra: Record<string, string> = {}, headers = service_) =>
    form('/oauth/token', { grant_type: 'client_credentials', ...extra }, headers);
  const auditCount = async (type: string) =>
    Number(
      (await database.query(`SELECT count(*) AS n FROM audit_events WHERE type = $1`, [type]))[0].n,
    );

  beforeAll(async () => {
    service = await createTestApplication(AppModule, authServiceConfig, {
      ISSUER: 'https://auth.example.com',
      CLIENT_SECRETS: `resource-service=${SERVICE_SECRET}`,
    });
    database = service.app.get(DataSource);
    await service.app.get(ClientsService).create({
      id: 'other-app',
      type: 'public',
      grantTypes: ['refresh_token'],
      scopes: ['notes:read'],
      audiences: [],
    });
  });
  afterAll(() => service.close());

  describe('POST /oauth/token', () => {
    it('I14: issues a short-lived, audience-restricted service token with no refresh token', async () => {
      const reply = await clientCredentials();
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 300,
        scope: 'tokens:introspect revocations:read',
      });
      expect(reply.headers.get('cache-control')).toBe('no-store');
      const token = reply.body['access_token'] as string;
      expect(decode(token, 0)).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
      const claims = decode(token, 1);
      expect(claims).toMatchObject({
        sub: 'resource-service',
        client_id: 'resource-service',
        aud: ['auth-service'],
        iss: 'https://auth.example.com',
        roles: [],
      });
      expect(claims).not.toHaveProperty('sid');
      expect(Number(claims['exp']) - Number(claims['iat'])).toBe(300);
    });

    it('I14: takes client_secret_post as well, and refuses a wrong secret, an unknown client and no client with 401 invalid_client', async () => {
      const posted = await clientCredentials(
        { client_id: 'resource-service', client_secret: SERVICE_SECRET },
        {} as typeof service_,
      );
      expect(posted.status).toBe(200);
      const before = await auditCount('client.authentication_failed');
      for (const attempt of [
        () =>
          clientCredentials({}, { authorization: basic('resource-service', `${SERVICE_SECRET}x`) }),
        () => clientCredentials({}, { authorization: basic('no-such-client', SERVICE_SECRET) }),
        () =>
          clientCredentials(
            { client_id: 'resource-service', client_secret: 'guess' },
            {} as typeof service_,
          ),
      ]) {
        const reply = await attempt();
        expect(reply.status).toBe(401);
        expect(reply.body).toEqual({
          error: 'invalid_client',
          error_description: 'Client authentication failed',
        });
      }
      const none = await clientCredentials({}, {} as typeof service_);
      expect(none.status).toBe(401);
      expect(await auditCount('client.authentication_failed')).toBe(before + 4);
    });

    it('I4: answers a failed Basic authentication with WWW-Authenticate: Basic, and a posted one without', async () => {
      const header = await clientCredentials(
        {},
        { authorization: basic('resource-service', 'wrong') },
      );
      expect(header.headers.get('www-authenticate')).toBe('Basic realm="tessera"');
      const posted = await clientCredentials(
        { client_id: 'resource-service', client_secret: 'wrong' },
        {} as typeof service_,
      );
      expect(posted.headers.get('www-authenticate')).toBeNull();
    });

    it('I14: narrows the scope and audience on request, and refuses more with invalid_scope / invalid_target', async () => {
      expect((await clientCredentials({ scope: 'notes:write' })).body).toMatchObject({
        error: 'invalid_scope',
      });
      expect((await clientCredentials({ audience: 'resource-service' })).body).toMatchObject({
        error: 'invalid_target',
      });
      const narrowed = await clientCredentials({
        scope: 'tokens:introspect',
        audience: 'auth-service',
      });
      expect(narrowed.status).toBe(200);
      expect(narrowed.body['scope']).toBe('tokens:introspect');
    });

    it('RFC 8707: takes resource, repeated for several audiences, with audience as its older name', async () => {
      const one = await clientCredentials({ resource: 'auth-service' });
      expect(one.status).toBe(200);
      expect(decode(one.body['access_token'] as string, 1)['aud']).toEqual(['auth-service']);
      const repeated = await form(
        '/oauth/token',
        { grant_type: 'client_credentials', resource: ['auth-service', 'auth-service'] },
        service_,
      );
      expect(repeated.status).toBe(200);
      expect(decode(repeated.body['access_token'] as string, 1)['aud']).toEqual(['auth-service']);
      const other = await form(
        '/oauth/token',
        { grant_type: 'client_credentials', resource: ['auth-service', 'resource-service'] },
        service_,
      );
      expect(other).toMatchObject({ status: 400, body: { error: 'invalid_target' } });
      const both = await clientCredentials({ resource: 'auth-service', audience: 'auth-service' });
      expect(both).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    });

    it('RFC 8707: lets a refresh narrow the audiences with resource, never widen them, and spends nothing when it refuses', async () => {
      const both = await json('POST', '/auth/login', {
        ...(await account()),
        resource: ['auth-service', 'resource-service'],
      });
      const narrowed = await form('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: both.body['refresh_token'] as string,
        client_id: FIRST_PARTY,
        resource: ['resource-service'],
      });
      expect(narrowed.status).toBe(200);
      expect(decode(narrowed.body['access_token'] as string, 1)['aud']).toEqual([
        'resource-service',
      ]);
      const tokens = await login();
      const widened = await form('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: tokens['refresh_token'],
        client_id: FIRST_PARTY,
        resource: ['resource-service', 'auth-service'],
      });
      expect(widened).toMatchObject({ status: 400, body: { error: 'invalid_target' } });
      expect((await refreshAfterGrace(tokens['refresh_token'])).status).toBe(200);
    });

    it('I1: refuses a repeated parameter, a JSON body, and a missing grant_type with 400 invalid_request', async () => {
      const repeated = await form(
        '/oauth/token',
        { grant_type: ['client_credentials', 'client_credentials'] },
        service_,
      );
      expect(repeated.status).toBe(400);
      expect(repeated.body).toEqual({
        error: 'invalid_request',
        error_description: 'grant_type is repeated: send each parameter once',
      });
      const asJson = await fetch(`${service.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...service_ },
        body: JSON.stringify({ grant_type: 'client_credentials' }),
      });
      expect(asJson.status).toBe(400);
      expect(await asJson.json()).toMatchObject({ error: 'invalid_request' });
      expect((await form('/oauth/token', {}, service_)).body).toMatchObject({
        error: 'invalid_request',
        error_description: 'grant_type is required',
      });
      const twoWays = await form(
        '/oauth/token',
        { grant_type: 'client_credentials', client_secret: SERVICE_SECRET },
        service_,
      );
      expect(twoWays.body).toMatchObject({ error: 'invalid_request' });
    });

    it('answers grant_type=authorization_code from a client without that grant with unauthorized_client', async () => {
      const reply = await form('/oauth/token', {
        grant_type: 'authorization_code',
        client_id: 'tessera-first-party',
        code: 'x',
      });
      expect(reply.status).toBe(400);
      expect(reply.body['error']).toBe('unauthorized_client');
    });

    it.each(['password', 'implicit', 'urn:ietf:params:oauth:grant-type:jwt-bearer'])(
      'I15: answers grant_type=%s with unsupported_grant_type',
      async (grant) => {
        const reply = await form(
          '/oauth/token',
          { grant_type: grant, username: 'a', password: 'b' },
          service_,
        );
        expect(reply.status).toBe(400);
        expect(reply.body['error']).toBe('unsupported_grant_type');
        expect(reply.headers.get('cache-control')).toBe('no-store');
      },
    );

    it('I15: refuses a grant the client is not allowed with unauthorized_client', async () => {
      const reply = await form(
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: 'x'.repeat(43) },
        service_,
      );
      expect(reply.status).toBe(400);
      expect(reply.body['error']).toBe('unauthorized_client');
      const publicClient = await form('/oauth/token', {
        grant_type: 'client_credentials',
        client_id: FIRST_PARTY,
      });
      expect(publicClient.body['error']).toBe('unauthorized_client');
    });

    it('I3/F1: refreshes a user session as the public first-party client, rotating the refresh token', async () => {
      const tokens = await login();
      const reply = await form('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: tokens['refresh_token'],
        client_id: FIRST_PARTY,
      });
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 900,
        refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        // The session's scope: the login's.
        scope: tokens['scope'],
      });
      expect(tokens['scope']).toMatch(/^notes:read notes:write( |$)/);
      expect(reply.body['refresh_token']).not.toBe(tokens['refresh_token']);
      expect(reply.headers.get('cache-control')).toBe('no-store');
      const again = await form('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: 'A'.repeat(43),
        client_id: FIRST_PARTY,
      });
      expect(again).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    });

    it('F5: refuses a refresh token presented by another client, and leaves its session alone', async () => {
      const tokens = await login();
      const stolen = await form('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: tokens['refresh_token'],
        client_id: 'other-app',
      });
      expect(stolen).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
      const owner = await form('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: tokens['refresh_token'],
        client_id: FIRST_PARTY,
      });
      expect(owner.status).toBe(200);
    });

    it('F6: lets a refresh narrow the scope but never grow it, and a refused one spends nothing', async () => {
      const tokens = await login('notes:read');
      const grown = await form('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: tokens['refresh_token'],
        client_id: FIRST_PARTY,
        scope: 'notes:read notes:write',
      });
      expect(grown).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
      // The refusal came before the spend: the token still works, however late it comes back.
      const retry = await refreshAfterGrace(tokens['refresh_token']);
      expect(retry.status).toBe(200);
      expect(retry.body['scope']).toBe('notes:read');
      const full = await login();
      const narrowed = await form('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: full['refresh_token'],
        client_id: FIRST_PARTY,
        scope: 'notes:read',
      });
      expect(narrowed.status).toBe(200);
      expect(narrowed.body['scope']).toBe('notes:read');
      expect(decode(narrowed.body['access_token'] as string, 1)['scope']).toBe('notes:read');
      // The session keeps its scope: the next refresh may have it all again.
      const next = await form('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: narrowed.body['refresh_token'] as string,
        client_id: FIRST_PARTY,
      });
      expect(next.body['scope']).toBe(full['scope']);
    });
  });

  describe('POST /oauth/revoke', () => {
    it('V1: needs client authentication', async () => {
      expect(await form('/oauth/revoke', { token: 'anything' })).toMatchObject({
        status: 401,
        body: { error: 'invalid_client' },
      });
    });

    it('V3: needs a token', async () => {
      expect(await form('/oauth/revoke', { client_id: FIRST_PARTY })).toMatchObject({
        status: 400,
        body: { error: 'invalid_request', error_description: 'token is required' },
      });
    });

    it('V2: answers 200 for an unknown or already revoked token', async () => {
      const unknown = await form('/oauth/revoke', {
        token: 'A'.repeat(43),
        client_id: FIRST_PARTY,
      });
      expect(unknown.status).toBe(200);
      expect(unknown.body).toEqual({});
      expect(
        (await form('/oauth/revoke', { token: 'not even a token', client_id: FIRST_PARTY })).status,
      ).toBe(200);
    });

    it("V5: revoking a refresh token ends its session: the refresh token and the session's access tokens stop working", async () => {
      const tokens = await login();
      const before = await auditCount('token.revoked');
      expect(
        (
          await form('/oauth/revoke', {
            token: tokens['refresh_token'],
            token_type_hint: 'refresh_token',
            client_id: FIRST_PARTY,
          })
        ).status,
      ).toBe(200);
      expect(await auditCount('token.revoked')).toBe(before + 1);
      const refresh = await form('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: tokens['refresh_token'],
        client_id: FIRST_PARTY,
      });
      expect(refresh.body['error']).toBe('invalid_grant');
      expect((await json('GET', '/auth/sessions', undefined, tokens['access_token'])).status).toBe(
        401,
      );
      expect(
        (await form('/oauth/revoke', { token: tokens['refresh_token'], client_id: FIRST_PARTY }))
          .status,
      ).toBe(200);
    });

    it('revokes the session of an access token the client was issued', async () => {
      const tokens = await login();
      expect(
        (await form('/oauth/revoke', { token: tokens['access_token'], client_id: FIRST_PARTY }))
          .status,
      ).toBe(200);
      expect(
        (
          await form('/oauth/token', {
            grant_type: 'refresh_token',
            refresh_token: tokens['refresh_token'],
            client_id: FIRST_PARTY,
          })
        ).body['error'],
      ).toBe('invalid_grant');
    });

    it("V4: leaves another client's token alone", async () => {
      const tokens = await login();
      expect(
        (await form('/oauth/revoke', { token: tokens['refresh_token'], client_id: 'other-app' }))
          .status,
      ).toBe(200);
      expect(
        (await form('/oauth/revoke', { token: tokens['access_token'] }, service_)).status,
      ).toBe(200);
      const still = await form('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: tokens['refresh_token'],
        client_id: FIRST_PARTY,
      });
      expect(still.status).toBe(200);
    });
  });

  describe('POST /oauth/introspect', () => {
    it('V1: needs a confidential client or a service token with tokens:introspect', async () => {
      expect(await form('/oauth/introspect', { token: 'x' })).toMatchObject({
        status: 401,
        body: { error: 'invalid_client' },
      });
      expect((await form('/oauth/introspect', { token: 'x', client_id: FIRST_PARTY })).status).toBe(
        401,
      );
      const user = await login();
      const withUserToken = await form(
        '/oauth/introspect',
        { token: 'x' },
        { authorization: `Bearer ${user['access_token']}` },
      );
      expect(withUserToken).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
      const serviceToken = (await clientCredentials()).body['access_token'] as string;
      const withServiceToken = await form(
        '/oauth/introspect',
        { token: 'x' },
        { authorization: `Bearer ${serviceToken}` },
      );
      expect(withServiceToken).toMatchObject({ status: 200, body: { active: false } });
    });

    it('V7: describes a valid access token meant for the caller, never cached', async () => {
      const tokens = await login();
      const reply = await form('/oauth/introspect', { token: tokens['access_token'] }, service_);
      expect(reply.status).toBe(200);
      expect(reply.headers.get('cache-control')).toBe('no-store');
      const claims = decode(tokens['access_token'], 1);
      // Services made by the service generator add their scopes and audiences after these.
      expect(claims).toMatchObject({
        scope: expect.stringMatching(/^notes:read notes:write( |$)/),
        aud: expect.arrayContaining(['resource-service']),
      });
      expect(reply.body).toEqual({
        active: true,
        token_type: 'Bearer',
        scope: claims['scope'],
        client_id: FIRST_PARTY,
        sub: claims['sub'],
        exp: claims['exp'],
        iat: claims['iat'],
        iss: 'https://auth.example.com',
        aud: claims['aud'],
        jti: claims['jti'],
        sid: claims['sid'],
      });
    });

    it('V6: answers exactly {"active":false} for anything not clearly valid', async () => {
      const tokens = await login();
      const loggedOut = await login();
      await json('POST', '/auth/logout', { refresh_token: loggedOut['refresh_token'] });
      const serviceToken = (await clientCredentials()).body['access_token'] as string;
      const [head, payload] = tokens['access_token'].split('.');
      const before = await auditCount('introspection.denied');
      for (const token of [
        'garbage',
        'A'.repeat(43),
        `${head}.${payload}.AAAA`,
        loggedOut['access_token'],
        loggedOut['refresh_token'],
        tokens['refresh_token'], // the first-party client's, not the caller's
        serviceToken.replace(/.$/, (last) => (last === 'A' ? 'B' : 'A')),
      ]) {
        const reply = await form('/oauth/introspect', { token }, service_);
        expect({ token, status: reply.status, body: reply.body }).toEqual({
          token,
          status: 200,
          body: { active: false },
        });
      }
      expect(await auditCount('introspection.denied')).toBeGreaterThan(before);
    });

    it('V6: answers {"active":false} for a token of another audience', async () => {
      const created = await service.app.get(ClientsService).create({
        id: 'billing-service',
        type: 'confidential',
        grantTypes: ['client_credentials'],
        scopes: [],
        audiences: ['auth-service'],
      });
      const tokens = await login();
      const reply = await form(
        '/oauth/introspect',
        { token: tokens['access_token'] },
        { authorization: basic('billing-service', created.secret ?? '') },
      );
      expect(reply.body).toEqual({ active: false });
    });
  });

  describe('discovery', () => {
    it.each(['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'])(
      "K1: %s names the endpoints, and its issuer is the tokens' iss byte for byte",
      async (path) => {
        const reply = await json('GET', path);
        expect(reply.status).toBe(200);
        expect(reply.body).toMatchObject({
          issuer: 'https://auth.example.com',
          token_endpoint: 'https://auth.example.com/oauth/token',
          jwks_uri: 'https://auth.example.com/.well-known/jwks.json',
          revocation_endpoint: 'https://auth.example.com/oauth/revoke',
          introspection_endpoint: 'https://auth.example.com/oauth/introspect',
          authorization_endpoint: 'https://auth.example.com/oauth/authorize',
          end_session_endpoint: 'https://auth.example.com/oauth/end_session',
          grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
          response_types_supported: ['code'],
          code_challenge_methods_supported: ['S256'],
          authorization_response_iss_parameter_supported: true,
          token_endpoint_auth_methods_supported: [
            'client_secret_basic',
            'client_secret_post',
            'none',
          ],
          // Only what ClientAuthenticator takes: public clients may revoke, not introspect.
          revocation_endpoint_auth_methods_supported: [
            'client_secret_basic',
            'client_secret_post',
            'none',
          ],
          introspection_endpoint_auth_methods_supported: [
            'client_secret_basic',
            'client_secret_post',
          ],
        });
        // No JWT client authentication, so no signing algorithms for it (RFC 8414 §2).
        expect(reply.body).not.toHaveProperty('token_endpoint_auth_signing_alg_values_supported');
        const token = (await clientCredentials()).body['access_token'] as string;
        expect(decode(token, 1)['iss']).toBe(reply.body['issuer']);
      },
    );
  });

  describe('OpenID Connect', () => {
    it('returns an ID token for a login that asks for openid, and none otherwise', async () => {
      expect(await login()).not.toHaveProperty('id_token');
      const tokens = await login('openid email notes:read');
      const header = decode(tokens['id_token'], 0);
      const claims = decode(tokens['id_token'], 1);
      expect(header).toMatchObject({ typ: 'JWT', alg: 'ES256', kid: expect.any(String) });
      expect(claims).toEqual({
        iss: 'https://auth.example.com',
        sub: decode(tokens['access_token'], 1)['sub'],
        aud: FIRST_PARTY,
        exp: expect.any(Number),
        iat: expect.any(Number),
        auth_time: expect.any(Number),
        // A password alone (RFC 8176), the single-factor level (docs/second-factors.md).
        amr: ['pwd'],
        acr: 'urn:tessera:acr:sfa',
        sid: decode(tokens['access_token'], 1)['sid'],
        email: expect.stringMatching(/@example\.com$/),
        // A new account's address is not verified until its owner follows the mailed link.
        email_verified: false,
      });
    });

    it('answers /userinfo for an access token with openid, and never takes an ID token for an access token', async () => {
      const tokens = await login('openid email', 'auth-service');
      const info = await json('GET', '/userinfo', undefined, tokens['access_token']);
      expect(info.status).toBe(200);
      expect(info.headers.get('cache-control')).toBe('no-store');
      const sessions = await json('GET', '/auth/sessions', undefined, tokens['access_token']);
      expect(sessions.status).toBe(200);
      expect(sessions.headers.get('cache-control')).toBe('no-store');
      expect(info.body).toEqual({
        sub: decode(tokens['access_token'], 1)['sub'],
        email: expect.any(String),
        email_verified: false,
      });
      const withoutOpenId = await login('notes:read', 'auth-service');
      expect(
        (await json('GET', '/userinfo', undefined, withoutOpenId['access_token'])).status,
      ).toBe(403);
      for (const path of ['/userinfo', '/auth/sessions']) {
        const reply = await json('GET', path, undefined, tokens['id_token']);
        expect(reply.status).toBe(401);
        expect(reply.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      }
      const introspected = await form('/oauth/introspect', { token: tokens['id_token'] }, service_);
      expect(introspected.body).toEqual({ active: false });
    });
  });
});
