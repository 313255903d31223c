import { HttpStatus, Logger } from '@nestjs/common';
import type { HttpException } from '@nestjs/common';
import type { ServiceTokenProvider } from '@tessera/auth-client';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PhantomTokens } from './phantom-tokens';

const SERVICE_TOKEN = 'Bearer the-gateway-service-token';
const AUDIENCE = 'resource-service';

/** An unsigned JWT-shaped string: PhantomTokens only passes it on, and reads exp and sid. */
function jwt(claims: Record<string, unknown>): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'ES256' })}.${encode(claims)}.signature`;
}

const reference = () => randomBytes(32).toString('base64url');

/** A stand-in for auth-service's POST /oauth/introspect: answers from `live`, counts requests. */
class IntrospectionEndpoint {
  readonly live = new Map<string, string>();
  /** Audiences the live references were issued for; any other is answered inactive. */
  readonly audiences = ['resource-service', 'auth-service'];
  readonly asked: {
    headers: IncomingHttpHeaders;
    token: string | null;
    audience: string | null;
  }[] = [];
  status = 200;
  private readonly server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const form = new URLSearchParams(body);
      const token = form.get('token');
      const audience = form.get('audience');
      this.asked.push({ headers: request.headers, token, audience });
      const found =
        token === null || !this.audiences.includes(audience ?? '')
          ? undefined
          : this.live.get(token);
      // Answered a little later, so requests asked at once overlap.
      setTimeout(() => {
        if (this.status !== 200) response.writeHead(this.status).end();
        else if (found) response.writeHead(200, { 'content-type': 'application/jwt' }).end(found);
        else
          response
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ active: false }));
      }, 20);
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/oauth/introspect`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('PhantomTokens', () => {
  const endpoint = new IntrospectionEndpoint();
  let phantom: PhantomTokens;
  let introspectionUri: string;
  const serviceToken = {
    authorization: async () => SERVICE_TOKEN,
  } as unknown as ServiceTokenProvider;
  const exp = Math.floor(Date.now() / 1000) + 900;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    introspectionUri = await endpoint.start();
    phantom = new PhantomTokens({ introspectionUri, timeoutMs: 2_000 }, serviceToken);
  });
  afterAll(() => endpoint.stop());
  beforeEach(() => {
    endpoint.asked.length = 0;
    endpoint.status = 200;
  });

  it('swaps a reference for its JWT with one introspection, however many requests ask at once', async () => {
    const token = reference();
    const swapped = jwt({ exp, sid: 's1' });
    endpoint.live.set(token, swapped);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => phantom.jwtFor(token, AUDIENCE)),
    );
    expect(answers).toEqual(Array(5).fill(swapped));
    expect(await phantom.jwtFor(token, AUDIENCE)).toBe(swapped);
    expect(endpoint.asked).toHaveLength(1);
    expect(endpoint.asked[0]).toMatchObject({
      token,
      audience: AUDIENCE,
      headers: { accept: 'application/jwt', authorization: SERVICE_TOKEN },
    });
  });

  it('answers nothing for a reference auth-service calls inactive, and does not ask again at once', async () => {
    const token = reference();
    expect(await phantom.jwtFor(token, AUDIENCE)).toBeUndefined();
    expect(await phantom.jwtFor(token, AUDIENCE)).toBeUndefined();
    expect(endpoint.asked).toHaveLength(1);
  });

  it('never asks about a token that is not a reference: a JWT, or garbage', async () => {
    for (const token of [jwt({ exp }), 'x'.repeat(42), `${reference()}=`, 'a.b']) {
      expect(phantom.isReference(token)).toBe(false);
      expect(await phantom.jwtFor(token, AUDIENCE)).toBeUndefined();
    }
    expect(endpoint.asked).toHaveLength(0);
  });

  it('tells whether a swap would ask auth-service: only for a reference it holds no answer for and is not asking about', async () => {
    const [live, madeUp] = [reference(), reference()];
    endpoint.live.set(live, jwt({ exp, sid: 's5' }));
    expect(phantom.wouldAsk(live, AUDIENCE)).toBe(true);
    const asking = phantom.jwtFor(live, AUDIENCE);
    expect(phantom.wouldAsk(live, AUDIENCE)).toBe(false);
    await asking;
    expect(phantom.wouldAsk(live, AUDIENCE)).toBe(false);
    expect(phantom.wouldAsk(live, 'auth-service')).toBe(true);
    expect(phantom.wouldAsk(madeUp, AUDIENCE)).toBe(true);
    await phantom.jwtFor(madeUp, AUDIENCE);
    expect(phantom.wouldAsk(madeUp, AUDIENCE)).toBe(false);
    for (const token of [jwt({ exp }), 'x'.repeat(42), 'a.b']) {
      expect(phantom.wouldAsk(token, AUDIENCE)).toBe(false);
    }
    expect(endpoint.asked).toHaveLength(2);
  });

  it('knows a JWT from a reference, so the edge can refuse one sent from outside', () => {
    expect(phantom.isJwt(jwt({ exp }))).toBe(true);
    expect(phantom.isJwt('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.')).toBe(true);
    for (const token of [reference(), 'a.b', 'a..b', 'a.b.c.d', 'a.b.c=']) {
      expect(phantom.isJwt(token)).toBe(false);
    }
  });

  it('answers 503 with Retry-After when auth-service fails, and asks again next time', async () => {
    const token = reference();
    endpoint.live.set(token, jwt({ exp, sid: 's2' }));
    endpoint.status = 500;
    const failure = (await phantom
      .jwtFor(token, AUDIENCE)
      .catch((error: unknown) => error)) as HttpException;
    expect(failure.getStatus()).toBe(HttpStatus.SERVICE_UNAVAILABLE);
    expect(failure).toMatchObject({ headers: { 'retry-after': '5' } });
    endpoint.status = 200;
    expect(await phantom.jwtFor(token, AUDIENCE)).toBe(endpoint.live.get(token));
    expect(endpoint.asked).toHaveLength(2);
  });

  it('answers 503 past maxInFlight introspections at once, sparing auth-service a flood of made-up references', async () => {
    const bounded = new PhantomTokens(
      { introspectionUri, timeoutMs: 2_000, maxInFlight: 2 },
      serviceToken,
    );
    const answers = await Promise.allSettled(
      [reference(), reference(), reference()].map((token) => bounded.jwtFor(token, AUDIENCE)),
    );
    expect(answers.map((answer) => answer.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(endpoint.asked).toHaveLength(2);
  });

  it('forgets every swap of a session, at every audience, once the edge refused one of its JWTs (revoked)', async () => {
    const [first, second] = [reference(), reference()];
    endpoint.live.set(first, jwt({ exp, sid: 's3' }));
    endpoint.live.set(second, jwt({ exp, sid: 's3' }));
    await phantom.jwtFor(first, AUDIENCE);
    await phantom.jwtFor(second, AUDIENCE);
    await phantom.jwtFor(second, 'auth-service');
    // auth-service now calls both inactive, as it does once the session is revoked.
    endpoint.live.delete(first);
    endpoint.live.delete(second);
    phantom.refused(first, AUDIENCE);
    expect(await phantom.jwtFor(second, AUDIENCE)).toBeUndefined();
    expect(await phantom.jwtFor(second, 'auth-service')).toBeUndefined();
    expect(endpoint.asked.map((asked) => asked.token)).toEqual([
      first,
      second,
      second,
      second,
      second,
    ]);
  });

  it('swaps apart per audience, and an audience the reference was not issued for is inactive', async () => {
    const token = reference();
    endpoint.live.set(token, jwt({ exp, sid: 's4' }));
    expect(await phantom.jwtFor(token, 'resource-service')).toBe(endpoint.live.get(token));
    expect(await phantom.jwtFor(token, 'auth-service')).toBe(endpoint.live.get(token));
    expect(await phantom.jwtFor(token, 'billing-service')).toBeUndefined();
    // Each (reference, audience) answered from the cache from then on.
    expect(await phantom.jwtFor(token, 'resource-service')).toBe(endpoint.live.get(token));
    expect(await phantom.jwtFor(token, 'billing-service')).toBeUndefined();
    expect(endpoint.asked.map((asked) => asked.audience)).toEqual([
      'resource-service',
      'auth-service',
      'billing-service',
    ]);
  });
});
