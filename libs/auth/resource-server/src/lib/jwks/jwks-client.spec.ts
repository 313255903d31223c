import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JwksClient } from './jwks-client';

function ecJwk(kid: string): Record<string, unknown> {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
}

/** A JWKS endpoint whose answers can be held back, as a slow or overloaded issuer's are. */
async function slowJwks(keys: Record<string, unknown>[]) {
  let held: (() => void)[] | undefined;
  let requests = 0;
  let cacheControl: string | undefined;
  const server = createServer((_request, response) => {
    requests += 1;
    const answer = () => {
      response.setHeader('content-type', 'application/json');
      if (cacheControl) response.setHeader('cache-control', cacheControl);
      response.end(JSON.stringify({ keys }));
    };
    if (held) held.push(answer);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    requests: () => requests,
    publish(next: Record<string, unknown>[]) {
      keys = next;
    },
    cacheFor(header: string) {
      cacheControl = header;
    },
    hold() {
      held = [];
    },
    release() {
      const waiting = held ?? [];
      held = undefined;
      for (const answer of waiting) answer();
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

const WAITED = 'still waiting after 200 ms';
const within200ms = <T>(promise: Promise<T>) =>
  Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(WAITED), 200))]);

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('JwksClient against a slow JWKS endpoint', () => {
  const first = ecJwk('first');
  const second = ecJwk('second');
  let jwks: Awaited<ReturnType<typeof slowJwks>>;
  /** Date.now as the client sees it: moved by the tests only. */
  let now: number;

  beforeEach(async () => {
    jwks = await slowJwks([first]);
    now = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
  });
  afterEach(async () => {
    jwks.release();
    jest.restoreAllMocks();
    await jwks.close();
  });

  const client = (cacheMaxAgeMs = 300_000) =>
    new JwksClient({
      jwksUri: jwks.uri,
      algorithms: ['ES256'],
      cacheMaxAgeMs,
      cooldownMs: 30_000,
      timeoutMs: 5_000,
    });

  it('answers a known kid at once while the fetch for an unknown one hangs; unknown kids share that one fetch', async () => {
    const keys = client();
    await keys.refresh();
    now += 30_000; // past the cooldown: an unknown kid may fetch again
    jwks.hold();

    const unknown = [keys.key('second'), keys.key('second'), keys.key('third')];
    await until(() => jwks.requests() === 2);
    await expect(within200ms(keys.key('first'))).resolves.toMatchObject({ kid: 'first' });

    jwks.publish([first, second]);
    jwks.release();
    const [a, b, c] = await Promise.all(unknown);
    expect([a?.kid, b?.kid, c]).toEqual(['second', 'second', undefined]);
    // One fetch for all three, and none more for another unknown kid within the cooldown (R12).
    await expect(keys.key('fourth')).resolves.toBeUndefined();
    expect(jwks.requests()).toBe(2);
  });

  it('makes a known kid wait for the refetch once the set is past its max age (R24)', async () => {
    const keys = client(60_000);
    await keys.refresh();
    jwks.publish([second]);
    now += 60_000;
    jwks.hold();

    await expect(within200ms(keys.key('first'))).resolves.toBe(WAITED);
    jwks.release();
    await expect(keys.key('first')).resolves.toBeUndefined();
    await expect(keys.key('second')).resolves.toMatchObject({ kid: 'second' });
    expect(jwks.requests()).toBe(2);
  });

  it('keeps the set no longer than the issuer’s max-age, and lets no cooldown stretch it (issue 24)', async () => {
    // auth-service with JWKS_MAX_AGE=10; this service's own options say 300 s and a 30 s cooldown.
    jwks.cacheFor('public, max-age=10');
    const keys = client(300_000);
    await keys.refresh();
    jwks.publish([first, second]);

    now += 9_000;
    await expect(keys.key('first')).resolves.toMatchObject({ kid: 'first' });
    expect(jwks.requests()).toBe(1);
    now += 1_000;
    // 10 s old: the next lookup waits for a fresh set, which has the key published meanwhile.
    await expect(keys.key('first')).resolves.toMatchObject({ kid: 'first' });
    expect(jwks.requests()).toBe(2);
    // An unknown kid 10 s after that fetch may fetch again, though the cooldown says 30 s.
    now += 10_000;
    await expect(keys.key('third')).resolves.toBeUndefined();
    expect(jwks.requests()).toBe(3);
    await expect(keys.key('fourth')).resolves.toBeUndefined();
    expect(jwks.requests()).toBe(3);
  });

  it('follows max-age=0 no more often than once a second (R12)', async () => {
    jwks.cacheFor('no-cache, max-age=0');
    const keys = client();
    await keys.refresh();
    await Promise.all([keys.key('unknown-1'), keys.key('unknown-2'), keys.key('first')]);
    expect(jwks.requests()).toBe(1);
    now += 1_000;
    await keys.key('unknown-3');
    expect(jwks.requests()).toBe(2);
  });
});
