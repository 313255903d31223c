import { PasswordHasher } from './password-hasher';

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher();

  it('hashes with argon2id, 19 MiB of memory, 2 passes and 1 lane', async () => {
    const hash = await hasher.hash('purple monkey dishwasher');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('hashes at the configured cost, and asks to rehash a hash made at another', async () => {
    const stronger = new PasswordHasher({
      PASSWORD_HASH_MEMORY_KIB: 32768,
      PASSWORD_HASH_PASSES: 3,
    });
    const made = await stronger.hash('purple monkey dishwasher');
    expect(made).toMatch(/^\$argon2id\$v=19\$m=32768,t=3,p=1\$/);
    expect(stronger.needsRehash(made)).toBe(false);
    const before = await hasher.hash('purple monkey dishwasher');
    expect(stronger.needsRehash(before)).toBe(true);
    // A hash made at the old cost still verifies: the user signs in, and it is made again.
    await expect(stronger.verify(before, 'purple monkey dishwasher')).resolves.toBe(true);
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hasher.hash('purple monkey dishwasher');
    await expect(hasher.verify(hash, 'purple monkey dishwasher')).resolves.toBe(true);
    await expect(hasher.verify(hash, 'purple monkey dishwashe')).resolves.toBe(false);
  });

  it('matches a password typed with a decomposed accent against one typed composed', async () => {
    const hash = await hasher.hash('caf\u00e9 au lait');
    await expect(hasher.verify(hash, 'cafe\u0301 au lait')).resolves.toBe(true);
  });

  it('treats a malformed stored hash as a wrong password instead of throwing', async () => {
    await expect(hasher.verify('not-a-hash', 'anything at all')).resolves.toBe(false);
  });

  it('answers false from the dummy verification whatever the password', async () => {
    await expect(hasher.verifyDummy('purple monkey dishwasher')).resolves.toBe(false);
  });

  it('asks for a rehash of a hash made with weaker parameters only', async () => {
    expect(hasher.needsRehash(await hasher.hash('purple monkey dishwasher'))).toBe(false);
    const { hash, argon2id } = await import('argon2');
    const weak = await hash('purple monkey dishwasher', {
      type: argon2id,
      memoryCost: 8192,
      timeCost: 1,
      parallelism: 1,
    });
    expect(hasher.needsRehash(weak)).toBe(true);
  });
});
