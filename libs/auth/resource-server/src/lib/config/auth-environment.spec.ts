import {
  EnvironmentValidationError,
  HttpServiceEnvironment,
  ServiceEnvironment,
  environmentVariableNames,
  validateEnvironment,
} from '@tessera/platform';
import { authOptionsFromEnvironment, withAuthEnvironment } from './auth-environment';

class OrdersEnvironment extends withAuthEnvironment(ServiceEnvironment, {
  audience: 'orders-service',
}) {
  override PORT = 3003;
}

class StatelessEnvironment extends withAuthEnvironment(HttpServiceEnvironment, {
  audience: 'quotes-service',
}) {}

const SECRET = 'a'.repeat(43);

describe('withAuthEnvironment', () => {
  it('adds the AUTH_* variables with the service as audience and client id', () => {
    expect(validateEnvironment(OrdersEnvironment, {})).toMatchObject({
      PORT: 3003,
      AUTH_ISSUER: 'http://127.0.0.1:3001',
      AUTH_AUDIENCE: 'orders-service',
      AUTH_CLIENT_ID: 'orders-service',
      AUTH_CLOCK_TOLERANCE: 30,
    });
    expect(environmentVariableNames(OrdersEnvironment)).toEqual(
      expect.arrayContaining(['AUTH_ISSUER', 'AUTH_SERVICE_URL', 'AUTH_CLIENT_SECRET', 'DATA_DIR']),
    );
  });

  it('refuses in production an http issuer or auth-service URL that leaves the machine, naming the variable', () => {
    const problems = (source: Record<string, string>) => {
      try {
        validateEnvironment(StatelessEnvironment, { NODE_ENV: 'production', ...source });
        return [];
      } catch (error) {
        return (error as EnvironmentValidationError).problems.map((problem) => problem.variable);
      }
    };
    // docker-compose: clients use the loopback issuer, the service the compose network's name.
    expect(
      problems({
        AUTH_ISSUER: 'http://127.0.0.1:3001',
        AUTH_SERVICE_URL: 'http://auth-service:3001',
      }),
    ).toEqual([]);
    expect(problems({ AUTH_ISSUER: 'https://auth.example.com' })).toEqual([]);
    // The JWKS, token and introspection URLs are AUTH_ISSUER's when AUTH_SERVICE_URL is unset.
    expect(problems({ AUTH_ISSUER: 'http://auth.example.com' })).toEqual(['AUTH_ISSUER']);
    expect(problems({ AUTH_ISSUER: 'http://auth-service:3001' })).toEqual(['AUTH_ISSUER']);
    expect(
      problems({
        AUTH_ISSUER: 'https://auth.example.com',
        AUTH_SERVICE_URL: 'http://auth.example.com',
      }),
    ).toEqual(['AUTH_SERVICE_URL']);
    expect(
      problems({
        AUTH_ISSUER: 'https://auth.example.com',
        AUTH_SERVICE_URL: 'http://10.0.0.5:3001',
      }),
    ).toEqual(['AUTH_SERVICE_URL']);
    expect(
      validateEnvironment(StatelessEnvironment, { AUTH_ISSUER: 'http://auth.example.com' }),
    ).toBeDefined();
  });

  it('keeps a stateless service free of database variables', () => {
    expect(environmentVariableNames(StatelessEnvironment)).not.toContain('DATABASE_URL');
    expect(environmentVariableNames(StatelessEnvironment)).not.toContain('DATA_DIR');
    expect(validateEnvironment(StatelessEnvironment, {}).AUTH_AUDIENCE).toBe('quotes-service');
  });

  it.each([
    ['AUTH_ISSUER', 'http://127.0.0.1:3001/'],
    ['AUTH_ISSUER', 'auth-service'],
    ['AUTH_SERVICE_URL', 'ftp://auth'],
    ['AUTH_CLIENT_SECRET', 'short'],
    ['AUTH_CLOCK_TOLERANCE', '61'],
    ['AUTH_AUDIENCE', 'has spaces'],
  ])('refuses %s=%s naming the variable', (variable, value) => {
    const validate = () => validateEnvironment(OrdersEnvironment, { [variable]: value });
    expect(validate).toThrow(EnvironmentValidationError);
    expect(validate).toThrow(`${variable}: must`);
  });
});

describe('authOptionsFromEnvironment', () => {
  it('verifies against the issuer, and is no client without a secret', () => {
    const environment = validateEnvironment(OrdersEnvironment, {});
    expect(authOptionsFromEnvironment(environment)).toEqual({
      issuer: 'http://127.0.0.1:3001',
      audience: 'orders-service',
      jwksUri: 'http://127.0.0.1:3001/.well-known/jwks.json',
      clockTolerance: 30,
    });
  });

  it('reaches auth-service at AUTH_SERVICE_URL and follows the revocation feed with a secret', () => {
    const environment = validateEnvironment(OrdersEnvironment, {
      AUTH_ISSUER: 'https://auth.example.com',
      AUTH_SERVICE_URL: 'http://auth-service:3001',
      AUTH_CLIENT_SECRET: SECRET,
    });
    expect(
      authOptionsFromEnvironment(environment, { clientScope: 'a:b revocations:read' }),
    ).toEqual({
      issuer: 'https://auth.example.com',
      audience: 'orders-service',
      jwksUri: 'http://auth-service:3001/.well-known/jwks.json',
      clockTolerance: 30,
      client: {
        id: 'orders-service',
        secret: SECRET,
        tokenUri: 'http://auth-service:3001/oauth/token',
        introspectionUri: 'http://auth-service:3001/oauth/introspect',
        scope: 'a:b revocations:read',
        audience: 'auth-service',
      },
      revocationsUri: 'http://auth-service:3001/revocations',
    });
  });
});
