import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { AuthOptionsError } from './auth-module.options';
import { resolveAuthOptions } from './auth-module.options';
import type { AuthModuleOptions } from './auth-module.options';
import type { ResolvedServiceClientOptions } from '@tessera/auth-client';
import { AuthModule } from './auth.module';
import { ServiceTokenError } from '@tessera/auth-client';
import { ServiceTokenProvider } from '@tessera/auth-client';

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

/** Characters that form-encoding must escape, so a naive Basic header would be wrong. */
const CLIENT = { id: 'reports:service+1', secret: 'top-secret p+ss:w/rd%é' };
/** The same, form-urlencoded as RFC 6749 Appendix B says, then joined: what Basic carries. */
const FORM_ENCODED_CREDENTIALS = 'reports%3Aservice%2B1:top-secret+p%2Bss%3Aw%2Frd%25%C3%A9';

interface RecordedRequest {
  method: string | undefined;
  path: string | undefined;
  contentType: string | undefined;
  /** The Basic credentials base64-decoded, still form-encoded. */
  basic: string | undefined;
  body: string;
  form: Record<string, string>;
}

interface Reply {
  status: number;
  body: string;
}

/**
 * A token endpoint on a loopback port, as auth-service's would answer: it checks the Basic
 * credentials and the grant, counts the requests, and issues `token-1`, `token-2`, … unless a
 * test queued other replies.
 */
class FakeTokenEndpoint {
  readonly requests: RecordedRequest[] = [];
  /** Answered, in turn, before tokens are issued again. */
  readonly replies: Reply[] = [];
  expiresIn = 3600;
  delayMs = 0;
  private issued = 0;
  private readonly server: Server = createServer((request, response) =>
    this.answer(request, response),
  );

  private constructor(private readonly client: { id: string; secret: string }) {}

  static async start(client = CLIENT): Promise<FakeTokenEndpoint> {
    const endpoint = new FakeTokenEndpoint(client);
    await new Promise<void>((resolve) => endpoint.server.listen(0, '127.0.0.1', resolve));
    return endpoint;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get tokenUri(): string {
    return `${this.url}/oauth/token`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async answer(request: IncomingMessage, response: ServerResponse) {
    let body = '';
    for await (const chunk of request) body += String(chunk);
    const header = request.headers.authorization ?? '';
    const basic = header.startsWith('Basic ')
      ? Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8')
      : undefined;
    const form = Object.fromEntries(new URLSearchParams(body));
    this.requests.push({
      method: request.method,
      path: request.url,
      contentType: request.headers['content-type'],
      basic,
      body,
      form,
    });
    const reply = this.replyTo(request.url, basic, form);
    setTimeout(() => {
      response.writeHead(reply.status, { 'content-type': 'application/json' });
      response.end(reply.body);
    }, this.delayMs);
  }

  private replyTo(
    path: string | undefined,
    basic: string | undefined,
    form: Record<string, string>,
  ) {
    if (path !== '/oauth/token') return { status: 404, body: '{"error":"not_found"}' };
    const [id, secret] = (basic ?? '').split(':').map(formDecoded);
    if (id !== this.client.id || secret !== this.client.secret) {
      return { status: 401, body: '{"error":"invalid_client"}' };
    }
    if (form['grant_type'] !== 'client_credentials') {
      return { status: 400, body: '{"error":"unsupported_grant_type"}' };
    }
    const queued = this.replies.shift();
    if (queued) return queued;
    this.issued += 1;
    return tokenReply({ access_token: `token-${this.issued}`, expires_in: this.expiresIn });
  }
}

function formDecoded(value: string): string {
  return decodeURIComponent(value.replaceAll('+', ' '));
}

function tokenReply(fields: Record<string, unknown>, status = 200): Reply {
  return { status, body: JSON.stringify({ token_type: 'Bearer', ...fields }) };
}

function providerFor(
  endpoint: FakeTokenEndpoint,
  client: Partial<ResolvedServiceClientOptions> = {},
  timeoutMs = 3000,
): ServiceTokenProvider {
  return new ServiceTokenProvider({
    client: {
      ...CLIENT,
      tokenUri: endpoint.tokenUri,
      introspectionUri: `${endpoint.tokenUri}/../introspect`,
      ...client,
    },
    timeoutMs,
  });
}

/** The rejection of `promise`, which must be a ServiceTokenError. */
async function failureOf(promise: Promise<unknown>): Promise<ServiceTokenError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ServiceTokenError);
  return error as ServiceTokenError;
}

function thrownBy(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

/** What must never reach a message: the secret, in any of the forms it is sent in. */
function expectNoSecretIn(text: string) {
  expect(text).not.toContain(CLIENT.secret);
  expect(text).not.toContain('top-secret');
  expect(text).not.toContain(Buffer.from(FORM_ENCODED_CREDENTIALS).toString('base64'));
}

describe('ServiceTokenProvider', () => {
  let endpoint: FakeTokenEndpoint;
  let debugLog: jest.SpyInstance;

  beforeEach(async () => {
    endpoint = await FakeTokenEndpoint.start();
    debugLog = jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    jest.useRealTimers();
    debugLog.mockRestore();
    await endpoint.stop();
  });

  describe('the token request', () => {
    it('posts a form-encoded client_credentials grant with the scope, the resource (RFC 8707) and client_secret_basic', async () => {
      const provider = providerFor(endpoint, {
        scope: 'orders:read orders:write',
        audience: 'orders-service',
      });

      expect(await provider.token()).toBe('token-1');
      expect(endpoint.requests).toEqual([
        {
          method: 'POST',
          path: '/oauth/token',
          contentType: 'application/x-www-form-urlencoded',
          basic: FORM_ENCODED_CREDENTIALS,
          body: 'grant_type=client_credentials&scope=orders%3Aread+orders%3Awrite&resource=orders-service',
          form: {
            grant_type: 'client_credentials',
            scope: 'orders:read orders:write',
            resource: 'orders-service',
          },
        },
      ]);
    });

    it('sends neither scope nor audience when none is configured', async () => {
      await providerFor(endpoint).token();
      expect(endpoint.requests[0]?.form).toEqual({ grant_type: 'client_credentials' });
    });

    it('gives the token as a Bearer Authorization header', async () => {
      expect(await providerFor(endpoint).authorization()).toBe('Bearer token-1');
    });

    it.each(['bearer', 'BEARER', 'Bearer'])(
      'takes the token_type %s in any casing',
      async (type) => {
        endpoint.replies.push(
          tokenReply({ access_token: 'token-x', token_type: type, expires_in: 60 }),
        );
        expect(await providerFor(endpoint).token()).toBe('token-x');
      },
    );
  });

  describe('caching', () => {
    it('reuses the token while it is fresh: a second call makes no request', async () => {
      const provider = providerFor(endpoint);
      expect(await provider.token()).toBe('token-1');
      expect(await provider.token()).toBe('token-1');
      expect(await provider.authorization()).toBe('Bearer token-1');
      expect(endpoint.requests).toHaveLength(1);
    });

    it('makes one request for 50 concurrent callers, and gives each the same token', async () => {
      endpoint.delayMs = 50;
      const provider = providerFor(endpoint);
      const tokens = await Promise.all(Array.from({ length: 50 }, () => provider.token()));
      expect(new Set(tokens)).toEqual(new Set(['token-1']));
      expect(endpoint.requests).toHaveLength(1);
    });

    it('fetches a new token once less than 10 % of a long lifetime is left', async () => {
      const clock = controlDate();
      endpoint.expiresIn = 3600;
      const provider = providerFor(endpoint);
      expect(await provider.token()).toBe('token-1');

      clock.advance(3600 - 360 - 1);
      expect(await provider.token()).toBe('token-1');
      clock.advance(2);
      expect(await provider.token()).toBe('token-2');
      expect(endpoint.requests).toHaveLength(2);
    });

    it('fetches a new token once less than 30 s of a short lifetime is left', async () => {
      const clock = controlDate();
      endpoint.expiresIn = 120; // 10 % would be 12 s: the 30 s floor applies
      const provider = providerFor(endpoint);
      expect(await provider.token()).toBe('token-1');

      clock.advance(120 - 30 - 1);
      expect(await provider.token()).toBe('token-1');
      clock.advance(2);
      expect(await provider.token()).toBe('token-2');
      expect(endpoint.requests).toHaveLength(2);
    });

    it('keeps the secret and the token out of its log and of what inspecting it prints', async () => {
      const provider = providerFor(endpoint);
      await provider.token();
      const printed = inspect(provider, { depth: 10, showHidden: true });
      expectNoSecretIn(printed);
      expect(printed).not.toContain('token-1');
      const logged = JSON.stringify(debugLog.mock.calls);
      expect(logged).toContain('Obtained a token for client reports:service+1');
      expectNoSecretIn(logged);
      expect(logged).not.toContain('token-1');
    });
  });

  describe('failures', () => {
    it('rejects every waiting caller once on a 401 invalid_client, without the secret, and asks again on the next call', async () => {
      endpoint.delayMs = 20;
      endpoint.replies.push({ status: 401, body: '{"error":"invalid_client"}' });
      const provider = providerFor(endpoint);

      const failures = await Promise.all(
        Array.from({ length: 10 }, () => failureOf(provider.token())),
      );
      expect(endpoint.requests).toHaveLength(1);
      for (const failure of failures) {
        expect(failure).toMatchObject({
          reason: 'refused',
          status: 401,
          oauthError: 'invalid_client',
        });
        expect(failure.message).toBe(
          `The token endpoint ${endpoint.tokenUri} refused the request: HTTP 401, invalid_client`,
        );
        expectNoSecretIn(failure.message);
      }

      expect(await provider.token()).toBe('token-1');
      expect(endpoint.requests).toHaveLength(2);
    });

    it('is refused with invalid_client when its secret is wrong', async () => {
      const provider = providerFor(endpoint, { secret: 'top-secret but wrong' });
      const failure = await failureOf(provider.token());
      expect(failure.message).toContain('HTTP 401, invalid_client');
      expect(failure.message).not.toContain('top-secret');
    });

    it('says what the endpoint said, its error_description included', async () => {
      endpoint.replies.push({
        status: 400,
        body: '{"error":"invalid_scope","error_description":"orders:delete is not allowed"}',
      });
      const failure = await failureOf(providerFor(endpoint).token());
      expect(failure.message).toMatch(/HTTP 400, invalid_scope: orders:delete is not allowed$/);
    });

    it('leaves out an error_description that repeats the secret', async () => {
      endpoint.replies.push({
        status: 401,
        body: JSON.stringify({
          error: 'invalid_client',
          error_description: `bad secret ${CLIENT.secret}`,
        }),
      });
      const failure = await failureOf(providerFor(endpoint).token());
      expect(failure.message).toMatch(/HTTP 401, invalid_client$/);
      expectNoSecretIn(failure.message);
    });

    it('gives the status alone when the error has no OAuth body', async () => {
      endpoint.replies.push({ status: 503, body: '<html>Service Unavailable</html>' });
      const failure = await failureOf(providerFor(endpoint).token());
      expect(failure).toMatchObject({ reason: 'refused', status: 503, oauthError: undefined });
      expect(failure.message).toMatch(/refused the request: HTTP 503$/);
    });

    it.each([
      ['no access_token', { expires_in: 3600 }, 'access_token is missing or empty'],
      ['an empty access_token', { access_token: '', expires_in: 3600 }, 'access_token is missing'],
      [
        'an access_token that cannot be a Bearer token',
        { access_token: 'leaky-token\nvalue', expires_in: 3600 },
        'access_token has characters',
      ],
      [
        'token_type mac',
        { access_token: 'leaky-token-value', token_type: 'mac', expires_in: 3600 },
        'token_type is "mac", not Bearer',
      ],
      [
        'no token_type',
        { access_token: 'leaky-token-value', token_type: undefined, expires_in: 3600 },
        'token_type is missing, not Bearer',
      ],
      [
        'expires_in -1',
        { access_token: 'leaky-token-value', expires_in: -1 },
        'expires_in is -1, not a positive number',
      ],
      [
        'expires_in as a string',
        { access_token: 'leaky-token-value', expires_in: '3600' },
        'expires_in is "3600", not a positive number',
      ],
      [
        'no expires_in',
        { access_token: 'leaky-token-value' },
        'expires_in is missing, not a positive number',
      ],
    ])('rejects a response with %s', async (_case, fields, problem) => {
      endpoint.replies.push(tokenReply(fields));
      const failure = await failureOf(providerFor(endpoint).token());
      expect(failure.reason).toBe('invalid_response');
      expect(failure.message).toContain(
        `The token endpoint ${endpoint.tokenUri} answered without a usable token: ${problem}`,
      );
      expect(failure.message).not.toContain('leaky-token');
    });

    it.each([
      ['a body that is not JSON', 'access_token=leaky-token-value&token_type=bearer'],
      ['a JSON array', '["leaky-token-value"]'],
    ])('rejects %s', async (_case, body) => {
      endpoint.replies.push({ status: 200, body });
      const failure = await failureOf(providerFor(endpoint).token());
      expect(failure.reason).toBe('invalid_response');
      expect(failure.message).toMatch(
        /answered without a usable token: the response is not a JSON object$/,
      );
      expect(failure.message).not.toContain('leaky-token');
    });

    it('rejects at once when nothing listens at the token endpoint', async () => {
      const closed = await FakeTokenEndpoint.start();
      const tokenUri = closed.tokenUri;
      await closed.stop();
      const provider = providerFor(endpoint, { tokenUri });

      const failure = await failureOf(provider.token());
      expect(failure.reason).toBe('unreachable');
      expect(failure.message).toBe(
        `The token endpoint ${tokenUri} could not be reached (ECONNREFUSED)`,
      );
    });

    it('rejects within the timeout when the endpoint never answers', async () => {
      const silent = createServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const tokenUri = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/oauth/token`;
      try {
        const provider = providerFor(endpoint, { tokenUri }, 200);
        const started = performance.now();
        const failure = await failureOf(provider.token());
        const elapsed = performance.now() - started;

        expect(failure.reason).toBe('unreachable');
        expect(failure.message).toMatch(/could not be reached \(no answer within 200 ms\)$/);
        expect(elapsed).toBeGreaterThanOrEqual(150);
        expect(elapsed).toBeLessThan(1500);
      } finally {
        silent.closeAllConnections();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    });

    it('rejects clearly when AuthModule has no client option, and asks no one', async () => {
      const provider = new ServiceTokenProvider({ client: undefined, timeoutMs: 3000 });
      const failure = await failureOf(provider.token());
      expect(failure.reason).toBe('not_configured');
      expect(failure.message).toMatch(/^AuthModule has no `client` option/);
      await expect(provider.authorization()).rejects.toThrow(failure.message);
      expect(endpoint.requests).toHaveLength(0);
    });
  });

  describe('in AuthModule', () => {
    const moduleWith = async (options: Partial<AuthModuleOptions>) =>
      Test.createTestingModule({
        imports: [
          AuthModule.forRoot({ issuer: endpoint.url, audience: 'reports-service', ...options }),
        ],
      }).compile();

    it('is provided, and asks <issuer>/oauth/token unless told otherwise', async () => {
      const moduleRef = await moduleWith({ client: { ...CLIENT, audience: 'orders-service' } });
      try {
        const provider = moduleRef.get(ServiceTokenProvider);
        expect(await provider.authorization()).toBe('Bearer token-1');
        expect(endpoint.requests[0]).toMatchObject({
          path: '/oauth/token',
          basic: FORM_ENCODED_CREDENTIALS,
          form: { grant_type: 'client_credentials', resource: 'orders-service' },
        });
      } finally {
        await moduleRef.close();
      }
    });

    it('is provided without a client option too, and then rejects with not_configured', async () => {
      const moduleRef = await moduleWith({});
      try {
        const failure = await failureOf(moduleRef.get(ServiceTokenProvider).token());
        expect(failure.reason).toBe('not_configured');
      } finally {
        await moduleRef.close();
      }
    });
  });
});

describe('AuthModule client option', () => {
  const base = { issuer: 'https://auth.example.com', audience: 'reports-service' };

  it('defaults the token and introspection endpoints to the issuer’s, and is absent when not given', () => {
    expect(resolveAuthOptions(base)).not.toHaveProperty('client');
    expect(resolveAuthOptions({ ...base, client: CLIENT }).client).toEqual({
      ...CLIENT,
      tokenUri: 'https://auth.example.com/oauth/token',
      introspectionUri: 'https://auth.example.com/oauth/introspect',
    });
    expect(
      resolveAuthOptions({
        ...base,
        client: { ...CLIENT, tokenUri: 'http://auth-service:3000/oauth/token', scope: 'a:b c' },
      }).client,
    ).toEqual({
      ...CLIENT,
      tokenUri: 'http://auth-service:3000/oauth/token',
      introspectionUri: 'https://auth.example.com/oauth/introspect',
      scope: 'a:b c',
    });
  });

  it.each([
    ['an empty id', { id: '' }, 'client.id must be a non-empty string'],
    ['a missing id', { id: undefined }, 'client.id must be a non-empty string'],
    ['an empty secret', { secret: '' }, 'client.secret must be a non-empty string'],
    ['a secret of spaces', { secret: '   ' }, 'client.secret must be a non-empty string'],
    [
      'a secret with a trailing newline',
      { secret: `${CLIENT.secret}\n` },
      'client.secret must not begin or end with whitespace',
    ],
    [
      'a tokenUri that is not http(s)',
      { tokenUri: 'ftp://auth.example.com/token' },
      'client.tokenUri must be an http(s) URL',
    ],
    [
      'a tokenUri that is not a URL',
      { tokenUri: 'auth-service/oauth/token' },
      'client.tokenUri must be an http(s) URL',
    ],
    [
      'a tokenUri with credentials',
      {
        tokenUri: `https://reports:${encodeURIComponent(CLIENT.secret)}@auth.example.com/oauth/token`,
      },
      'client.tokenUri must not carry credentials',
    ],
    ['a scope with two spaces', { scope: 'a  b' }, 'client.scope must be scope names'],
    ['an empty audience', { audience: '' }, 'client.audience must be the id'],
  ])(
    'refuses a client with %s, naming the field and never the secret',
    (_case, change, message) => {
      const error = thrownBy(() =>
        resolveAuthOptions({
          ...base,
          client: { ...CLIENT, ...change } as AuthModuleOptions['client'],
        }),
      );
      expect(error).toBeInstanceOf(AuthOptionsError);
      expect(error.message).toContain(message);
      expectNoSecretIn(error.message);
      expect(error.message).not.toContain(encodeURIComponent(CLIENT.secret));
    },
  );

  it('names every client problem at once, and a client that is no object', () => {
    expect(() =>
      resolveAuthOptions({ ...base, client: { id: '', secret: '', tokenUri: 'nope' } }),
    ).toThrow(
      'client.id must be a non-empty string; client.secret must be a non-empty string; client.tokenUri must be an http(s) URL',
    );
    expect(() => resolveAuthOptions({ ...base, client: 'reports' as never })).toThrow(
      'client must be an object with id and secret',
    );
  });
});
