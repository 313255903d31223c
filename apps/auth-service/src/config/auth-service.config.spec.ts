import { EnvironmentValidationError, validateEnvironment } from '@tessera/platform';
import { randomBytes } from 'node:crypto';
import { AuthServiceEnvironment } from './auth-service.config';

const validate = (source: Record<string, string>) =>
  validateEnvironment(AuthServiceEnvironment, source);

function problemsOf(source: Record<string, string>): string[] {
  try {
    validate(source);
    return [];
  } catch (error) {
    if (error instanceof EnvironmentValidationError) return error.problems.map((p) => p.variable);
    throw error;
  }
}

describe('AuthServiceEnvironment', () => {
  it('has secure, documented defaults for development', () => {
    expect(validate({})).toMatchObject({
      PORT: 3001,
      ISSUER: 'http://127.0.0.1:3001',
      ACCESS_TOKEN_TTL: 900,
      SESSION_IDLE_TTL: 14 * 86400,
      SESSION_ABSOLUTE_TTL: 30 * 86400,
      REFRESH_REUSE_GRACE: 10,
      SIGNING_ALGORITHM: 'ES256',
      REFRESH_TOKEN_COOKIE: false,
    });
  });

  it("hashes passwords at OWASP's minimum or above, and lower only with NODE_ENV=test", () => {
    expect(validate({})).toMatchObject({
      PASSWORD_HASH_MEMORY_KIB: 19456,
      PASSWORD_HASH_PASSES: 2,
    });
    const cheap = { PASSWORD_HASH_MEMORY_KIB: '1024', PASSWORD_HASH_PASSES: '1' };
    expect(problemsOf({ NODE_ENV: 'development', ...cheap })).toEqual([
      'PASSWORD_HASH_MEMORY_KIB',
      'PASSWORD_HASH_PASSES',
    ]);
    expect(problemsOf({ NODE_ENV: 'production', ...cheap })).toEqual(
      expect.arrayContaining(['PASSWORD_HASH_MEMORY_KIB', 'PASSWORD_HASH_PASSES']),
    );
    expect(validate({ NODE_ENV: 'test', ...cheap })).toMatchObject({
      PASSWORD_HASH_MEMORY_KIB: 1024,
      PASSWORD_HASH_PASSES: 1,
    });
    expect(problemsOf({ PASSWORD_HASH_MEMORY_KIB: '65536', PASSWORD_HASH_PASSES: '3' })).toEqual(
      [],
    );
    expect(problemsOf({ NODE_ENV: 'test', PASSWORD_HASH_MEMORY_KIB: '512' })).toEqual([
      'PASSWORD_HASH_MEMORY_KIB',
    ]);
  });

  it.each([
    ['true', true],
    ['false', false],
  ])('reads REFRESH_TOKEN_COOKIE=%s as %s', (value, expected) => {
    expect(validate({ REFRESH_TOKEN_COOKIE: value }).REFRESH_TOKEN_COOKIE).toBe(expected);
  });

  it('refuses a key activation delay that does not exceed JWKS_MAX_AGE plus the 30 s key re-read', () => {
    // Issue 24's measured case: a replica that had not re-read the keys served a JWKS without the
    // new key, and a resource service refused the key's tokens for 30 s.
    expect(problemsOf({ SIGNING_KEY_ACTIVATION_DELAY: '20', JWKS_MAX_AGE: '10' })).toEqual([
      'SIGNING_KEY_ACTIVATION_DELAY',
    ]);
    expect(problemsOf({ SIGNING_KEY_ACTIVATION_DELAY: '330' })).toEqual([
      'SIGNING_KEY_ACTIVATION_DELAY',
    ]);
    expect(problemsOf({ SIGNING_KEY_ACTIVATION_DELAY: '90', JWKS_MAX_AGE: '60' })).toEqual([
      'SIGNING_KEY_ACTIVATION_DELAY',
    ]);
    expect(problemsOf({ SIGNING_KEY_ACTIVATION_DELAY: '91', JWKS_MAX_AGE: '60' })).toEqual([]);
    expect(problemsOf({ SIGNING_KEY_ACTIVATION_DELAY: '41', JWKS_MAX_AGE: '10' })).toEqual([]);
  });

  it('names both variables and the re-read interval when it refuses the activation delay', () => {
    expect(() => validate({ SIGNING_KEY_ACTIVATION_DELAY: '20', JWKS_MAX_AGE: '10' })).toThrow(
      /SIGNING_KEY_ACTIVATION_DELAY.*JWKS_MAX_AGE \+ 30/s,
    );
  });

  it('requires KEY_ENCRYPTION_KEY in production, as 32 bytes of base64', () => {
    const url = 'postgres://tessera:secret@postgres:5432/auth';
    expect(problemsOf({ NODE_ENV: 'production', DATABASE_URL: url })).toEqual([
      'KEY_ENCRYPTION_KEY',
    ]);
    const key = randomBytes(32).toString('base64');
    expect(
      validate({ NODE_ENV: 'production', DATABASE_URL: url, KEY_ENCRYPTION_KEY: key })
        .KEY_ENCRYPTION_KEY,
    ).toBe(key);
  });

  it('refuses to start in production with an http ISSUER, but for a loopback one (docker-compose’s default)', () => {
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://tessera:secret@postgres:5432/auth',
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    };
    expect(problemsOf({ ...production, ISSUER: 'http://auth.example.com' })).toEqual(['ISSUER']);
    expect(problemsOf({ ...production, ISSUER: 'http://auth-service:3001' })).toEqual(['ISSUER']);
    expect(problemsOf({ ...production, CORS_ORIGINS: 'http://app.example.com' })).toEqual([
      'CORS_ORIGINS',
    ]);
    expect(problemsOf(production)).toEqual([]);
    expect(problemsOf({ ...production, ISSUER: 'https://auth.example.com' })).toEqual([]);
    expect(problemsOf({ ISSUER: 'http://auth.example.com' })).toEqual([]);
  });

  it.each([
    ['KEY_ENCRYPTION_KEY', randomBytes(16).toString('base64')],
    ['ISSUER', 'http://127.0.0.1:3001/'],
    ['ISSUER', 'not a url'],
    ['ACCESS_TOKEN_TTL', '4'],
    ['ACCESS_TOKEN_TTL', '3601'],
    ['REFRESH_REUSE_GRACE', '61'],
    ['SIGNING_ALGORITHM', 'HS256'],
    ['SIGNING_ALGORITHM', 'none'],
    ['REFRESH_TOKEN_COOKIE', 'yes'],
    ['LOGIN_ACCOUNT_FAILURE_LIMIT', '101'],
  ])('refuses %s=%s', (variable, value) => {
    expect(problemsOf({ [variable]: value })).toEqual([variable]);
  });
});
