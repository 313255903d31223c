import { PhantomTokenCache } from './phantom-token-cache';

const NOW = 1_800_000_000_000;

/** An unsigned JWT-shaped string with these claims: the cache reads `exp` and `sid` only. */
function jwt(claims: Record<string, unknown>): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'ES256', typ: 'at+jwt' })}.${encode(claims)}.signature`;
}

describe('PhantomTokenCache', () => {
  let now: number;
  let cache: PhantomTokenCache;

  beforeEach(() => {
    now = NOW;
    cache = new PhantomTokenCache({ now: () => now, inactiveMs: 30_000, maxEntries: 3 });
  });

  it('answers the JWT of a reference until the JWT expires, then asks again', () => {
    const token = jwt({ exp: NOW / 1000 + 900, sid: 's1' });
    cache.remember('ref-1', token);
    now = NOW + 899_999;
    expect(cache.get('ref-1')).toEqual({ jwt: token });
    now = NOW + 900_000;
    expect(cache.get('ref-1')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('drops every reference of a session the revocation feed ended, and only those', () => {
    cache.remember('ref-1', jwt({ exp: NOW / 1000 + 900, sid: 's1' }));
    cache.remember('ref-2', jwt({ exp: NOW / 1000 + 900, sid: 's1' }));
    const other = jwt({ exp: NOW / 1000 + 900, sid: 's2' });
    cache.remember('ref-3', other);
    cache.forgetSession('s1');
    expect(cache.get('ref-1')).toBeUndefined();
    expect(cache.get('ref-2')).toBeUndefined();
    expect(cache.get('ref-3')).toEqual({ jwt: other });
  });

  it('forgets a session by its own entries, without reading the rest of the cache', () => {
    const big = new PhantomTokenCache({ now: () => now });
    const exp = NOW / 1000 + 900;
    for (let index = 0; index < 10_000; index += 1) {
      big.remember(`other-${index}`, jwt({ exp, sid: `session-${index}` }));
    }
    big.remember('mine-1', jwt({ exp, sid: 'mine' }));
    big.remember('mine-2', jwt({ exp, sid: 'mine' }));
    // Every way to walk a Map's entries, watched while the session is forgotten.
    const walks = (['entries', 'keys', 'values', 'forEach'] as const).map((method) =>
      jest.spyOn(Map.prototype, method),
    );
    const iterate = jest.spyOn(Map.prototype, Symbol.iterator);
    try {
      big.forgetSession('mine');
      for (const walk of [...walks, iterate]) expect(walk).not.toHaveBeenCalled();
    } finally {
      for (const walk of [...walks, iterate]) walk.mockRestore();
    }
    expect(big.get('mine-1')).toBeUndefined();
    expect(big.get('mine-2')).toBeUndefined();
    expect(big.size).toBe(10_000);
    expect(big.sessions).toBe(10_000);
  });

  it('keeps the session index in step: an evicted, expired, replaced or dead swap leaves it', () => {
    const exp = NOW / 1000 + 900;
    cache.remember('a', jwt({ exp, sid: 's1' }));
    cache.remember('b', jwt({ exp: NOW / 1000 + 1, sid: 's2' }));
    cache.remember('c', jwt({ exp, sid: 's3' }));
    cache.remember('d', jwt({ exp, sid: 's4' })); // pushes 'a' (s1) out: maxEntries is 3
    expect(cache.sessions).toBe(3);
    now = NOW + 1_000;
    expect(cache.get('b')).toBeUndefined(); // expired
    cache.remember('c', jwt({ exp, sid: 's5' })); // replaced, now of another session
    cache.rememberInactive('d'); // dead now
    expect(cache.sessions).toBe(1);
    cache.forgetSession('s3');
    expect(cache.get('c')).toBeDefined();
    cache.forgetSession('s5');
    expect(cache.get('c')).toBeUndefined();
    expect(cache.sessions).toBe(0);
  });

  it('remembers an inactive reference for a while only', () => {
    cache.rememberInactive('dead');
    now = NOW + 29_999;
    expect(cache.get('dead')).toEqual({ inactive: true });
    now = NOW + 30_000;
    expect(cache.get('dead')).toBeUndefined();
  });

  it('keeps no JWT without an exp, nor one whose payload is not JSON', () => {
    cache.remember('no-exp', jwt({ sid: 's1' }));
    cache.remember('garbage', 'a.%%%.b');
    expect(cache.get('no-exp')).toBeUndefined();
    expect(cache.get('garbage')).toBeUndefined();
  });

  it('holds at most maxEntries, dropping the oldest first', () => {
    for (const reference of ['a', 'b', 'c', 'd']) {
      cache.remember(reference, jwt({ exp: NOW / 1000 + 900, sid: reference }));
    }
    expect(cache.size).toBe(3);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('d')).toBeDefined();
    expect(cache.sessionOf('d')).toBe('d');
  });

  it('never lets a flood of made-up references push a live swap out', () => {
    const live = jwt({ exp: NOW / 1000 + 900, sid: 's1' });
    cache.remember('live', live);
    for (let index = 0; index < 10; index += 1) cache.rememberInactive(`made-up-${index}`);
    expect(cache.get('live')).toEqual({ jwt: live });
    // The made-up ones are bounded apart: the newest are remembered, the oldest forgotten.
    expect(cache.get('made-up-9')).toEqual({ inactive: true });
    expect(cache.get('made-up-0')).toBeUndefined();
  });
});
