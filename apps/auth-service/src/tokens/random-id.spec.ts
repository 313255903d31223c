import { randomId } from './random-id';

describe('randomId', () => {
  it('hands out 16 random bytes as base64url, never the same twice across pool refills', () => {
    // 3,000 ids of 16 bytes: more than ten refills of the 4,096-byte pool.
    const ids = Array.from({ length: 3_000 }, () => randomId(16));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // Not a counter, nor zeros left by a spent pool: every byte value shows up.
    const bytes = new Set(ids.flatMap((id) => [...Buffer.from(id, 'base64url')]));
    expect(bytes.size).toBe(256);
  });
});
