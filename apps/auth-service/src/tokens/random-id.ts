import { randomFillSync } from 'node:crypto';

/** Bytes drawn from the CSPRNG at once: one call per 256 token ids instead of one per id. */
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

/**
 * `bytes` random bytes from the CSPRNG as base64url (a `jti`): the same bytes `randomBytes`
 * gives, taken from a pool that is refilled when spent, each byte handed out once. A call to
 * the CSPRNG costs about 13 µs here whatever its size (docs/performance.md), more than the rest
 * of building the token's claims; Node's own `randomUUID` pools its randomness the same way.
 */
export function randomId(bytes = 16): string {
  if (bytes > POOL_SIZE) throw new RangeError(`randomId takes at most ${POOL_SIZE} bytes`);
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + bytes);
  // Spent bytes are overwritten, so nothing handed out stays in memory to be handed out again.
  pool.fill(0, offset, offset + bytes);
  offset += bytes;
  return id;
}
