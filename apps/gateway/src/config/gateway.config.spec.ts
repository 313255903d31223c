import { EnvironmentValidationError, validateEnvironment } from '@tessera/platform';
import { randomBytes } from 'node:crypto';
import { GatewayEnvironment } from './gateway.config';

function problemsOf(source: Record<string, string>): { variable: string; expected: string }[] {
  try {
    validateEnvironment(GatewayEnvironment, source);
    return [];
  } catch (error) {
    if (error instanceof EnvironmentValidationError) {
      return error.problems.map(({ variable, expected }) => ({ variable, expected }));
    }
    throw error;
  }
}

describe('GatewayEnvironment: ACCESS_TOKEN_FORMAT', () => {
  it('is jwt unless set', () => {
    expect(validateEnvironment(GatewayEnvironment, {}).ACCESS_TOKEN_FORMAT).toBe('jwt');
  });

  it('takes reference with the client secret the swap is asked with', () => {
    const secret = randomBytes(32).toString('base64url');
    expect(
      validateEnvironment(GatewayEnvironment, {
        ACCESS_TOKEN_FORMAT: 'reference',
        AUTH_CLIENT_SECRET: secret,
      }).ACCESS_TOKEN_FORMAT,
    ).toBe('reference');
  });

  it('stops the start for reference without AUTH_CLIENT_SECRET, and for an unknown format', () => {
    expect(problemsOf({ ACCESS_TOKEN_FORMAT: 'reference' })).toEqual([
      { variable: 'ACCESS_TOKEN_FORMAT', expected: expect.stringContaining('AUTH_CLIENT_SECRET') },
    ]);
    expect(problemsOf({ ACCESS_TOKEN_FORMAT: 'opaque' })).toEqual([
      {
        variable: 'ACCESS_TOKEN_FORMAT',
        expected: expect.stringContaining('must be jwt or reference'),
      },
    ]);
  });
});
