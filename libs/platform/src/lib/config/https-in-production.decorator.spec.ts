import { EnvironmentValidationError } from './environment-validation.error';
import { isHttpsOrLocal } from './https-in-production.decorator';
import { HttpServiceEnvironment } from './service-environment';
import { validateEnvironment } from './validate-environment';

function problemsOf(source: Record<string, string>): string[] {
  try {
    validateEnvironment(HttpServiceEnvironment, source);
    return [];
  } catch (error) {
    if (!(error instanceof EnvironmentValidationError)) throw error;
    return error.problems.map((problem) => `${problem.variable}: ${problem.expected}`);
  }
}

describe('HttpsInProduction', () => {
  it('refuses an http CORS origin in production, naming the variable, and no other', () => {
    expect(
      problemsOf({
        NODE_ENV: 'production',
        CORS_ORIGINS: 'https://app.example.com,http://app.example.com',
      }),
    ).toEqual([
      'CORS_ORIGINS: must use https when NODE_ENV=production; plain http only to localhost, 127.0.0.1 or [::1]',
    ]);
  });

  it('accepts https and loopback origins in production, and http anywhere outside production', () => {
    const origins = 'https://app.example.com,http://localhost:5173,http://127.0.0.1:8080';
    expect(problemsOf({ NODE_ENV: 'production', CORS_ORIGINS: origins })).toEqual([]);
    for (const NODE_ENV of ['development', 'test']) {
      expect(problemsOf({ NODE_ENV, CORS_ORIGINS: 'http://app.example.com' })).toEqual([]);
    }
  });

  it.each([
    ['https://auth.example.com', {}, true],
    ['http://localhost:3001', {}, true],
    ['http://127.0.0.1:3001', {}, true],
    ['http://[::1]:3001', {}, true],
    ['http://auth.example.com', {}, false],
    ['http://auth-service:3001', {}, false],
    ['http://auth-service:3001', { internalHosts: true }, true],
    ['http://auth.internal:3001', { internalHosts: true }, false],
    ['http://10.0.0.5:3001', { internalHosts: true }, false],
    ['http://2130706433', { internalHosts: true }, true], // WHATWG URL reads it as 127.0.0.1
    ['http://3232235777', { internalHosts: true }, false], // 192.168.1.1, not a name
    ['http://127.0.0.2', {}, false],
    ['http://localhost.example.com', {}, false],
  ])('%s with %j: %s', (url, options, accepted) => {
    expect(isHttpsOrLocal(url, options)).toBe(accepted);
  });
});
