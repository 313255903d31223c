import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricsPortOf, ServiceEnvironment } from './service-environment';
import { EnvironmentValidationError } from './environment-validation.error';
import { environmentVariableNames, validateEnvironment } from './validate-environment';

class ExampleEnvironment extends ServiceEnvironment {
  override PORT = 4000;
}

function problemsOf(source: Record<string, string>): string[] {
  try {
    validateEnvironment(ExampleEnvironment, source);
  } catch (error) {
    if (error instanceof EnvironmentValidationError) return error.problems.map((p) => p.variable);
    throw error;
  }
  return [];
}

describe('validateEnvironment', () => {
  it('applies every default when nothing is set', () => {
    const environment = validateEnvironment(ExampleEnvironment, {});
    expect(environment).toMatchObject({
      NODE_ENV: 'development',
      PORT: 4000,
      HOST: '127.0.0.1',
      DATA_DIR: '.data',
      LOG_LEVEL: 'info',
      BODY_LIMIT: 102400,
      SHUTDOWN_TIMEOUT: 10000,
      DATABASE_CONNECT_ATTEMPTS: 5,
      DATABASE_CONNECT_RETRY_DELAY: 2000,
    });
    expect(environment.DATABASE_URL).toBeUndefined();
    expect(environment).toBeInstanceOf(ExampleEnvironment);
  });

  it('converts numbers and keeps valid values', () => {
    const environment = validateEnvironment(ExampleEnvironment, {
      PORT: '8080',
      DATABASE_URL: 'postgres://tessera:secret@postgres:5432/auth',
      LOG_LEVEL: 'debug',
    });
    expect(environment.PORT).toBe(8080);
    expect(environment.DATABASE_URL).toBe('postgres://tessera:secret@postgres:5432/auth');
    expect(environment.LOG_LEVEL).toBe('debug');
  });

  it('treats an empty value as unset', () => {
    const environment = validateEnvironment(ExampleEnvironment, { PORT: '', DATABASE_URL: '' });
    expect(environment.PORT).toBe(4000);
    expect(environment.DATABASE_URL).toBeUndefined();
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '0'],
    ['PORT', '70000'],
    ['PORT', '3.5'],
    ['DATABASE_URL', 'not a url'],
    ['DATABASE_CONNECT_ATTEMPTS', '0'],
    ['DATABASE_CONNECT_ATTEMPTS', 'many'],
    ['DATABASE_CONNECT_RETRY_DELAY', '-1'],
    ['DATABASE_CONNECT_RETRY_DELAY', '60001'],
    ['DATABASE_URL', 'mysql://user@host/db'],
    ['DATABASE_URL', 'postgres://host-without-database'],
    ['NODE_ENV', 'staging'],
    ['LOG_LEVEL', 'loud'],
    ['BODY_LIMIT', '12'],
    ['TRUST_PROXY', 'true; rm -rf'],
    ['CORS_ORIGINS', '*'],
    ['CORS_ORIGINS', 'https://app.example.com/path'],
  ])('rejects %s=%s naming the variable', (variable, value) => {
    expect(problemsOf({ [variable]: value })).toEqual([variable]);
  });

  it('requires DATABASE_URL in production, where there is no embedded PostgreSQL', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual(['DATABASE_URL']);
    expect(() => validateEnvironment(ExampleEnvironment, { NODE_ENV: 'production' })).toThrow(
      'DATABASE_URL: is required when NODE_ENV=production',
    );
    const url = 'postgres://tessera:secret@postgres:5432/auth';
    expect(
      validateEnvironment(ExampleEnvironment, { NODE_ENV: 'production', DATABASE_URL: url }),
    ).toMatchObject({ DATABASE_URL: url });
  });

  it('reports every bad variable at once, in a message that names them', () => {
    expect(() =>
      validateEnvironment(ExampleEnvironment, { PORT: 'abc', LOG_LEVEL: 'loud' }),
    ).toThrow(/PORT: must be a whole number from 1 to 65535\n {2}LOG_LEVEL: must be one of/);
  });

  it('never echoes a value, since some carry secrets', () => {
    const secret = 'postgres://user:hunter2-secret@/';
    expect(() => validateEnvironment(ExampleEnvironment, { DATABASE_URL: secret })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });

  it('ignores variables the class does not declare', () => {
    const environment = validateEnvironment(ExampleEnvironment, { UNRELATED: 'x', PATH: '/bin' });
    expect(environment).not.toHaveProperty('UNRELATED');
    expect(environment).not.toHaveProperty('PATH');
  });
});

describe('environmentVariableNames', () => {
  it('lists the declared variables, inherited ones included', () => {
    expect(environmentVariableNames(ExampleEnvironment)).toEqual([
      'API_DOCS',
      'BODY_LIMIT',
      'CORS_ORIGINS',
      'DATABASE_CONNECT_ATTEMPTS',
      'DATABASE_CONNECT_RETRY_DELAY',
      'DATABASE_MIGRATION_PASSWORD',
      'DATABASE_MIGRATION_URL',
      'DATABASE_PASSWORD',
      'DATABASE_URL',
      'DATA_DIR',
      'HOST',
      'LOG_LEVEL',
      'METRICS_HOST',
      'METRICS_PORT',
      'NODE_ENV',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_EXPORTER_OTLP_PROTOCOL',
      'OTEL_SERVICE_NAME',
      'OTEL_TRACES_EXPORTER',
      'OTEL_TRACES_SAMPLER',
      'OTEL_TRACES_SAMPLER_ARG',
      'PORT',
      'SHUTDOWN_TIMEOUT',
      'TRUST_PROXY',
    ]);
  });
});

describe('a variable read from the file X_FILE names (Docker secrets)', () => {
  let folder: string;
  const file = (name: string, content: string) => {
    const path = join(folder, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'tessera-env-files-'));
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  it('takes the file content without its one trailing newline', () => {
    const environment = validateEnvironment(ExampleEnvironment, {
      LOG_LEVEL_FILE: file('log-level', 'debug\n'),
      HOST_FILE: file('host', '0.0.0.0\r\n'),
    });
    expect(environment).toMatchObject({ LOG_LEVEL: 'debug', HOST: '0.0.0.0' });
  });

  it('keeps everything but that one newline', () => {
    const environment = validateEnvironment(ExampleEnvironment, {
      DATA_DIR_FILE: file('data-dir', ' .data two \n\n'),
    });
    expect(environment.DATA_DIR).toBe(' .data two \n');
  });

  it('lets a value set directly win, and reads the file when that value is empty', () => {
    const levelFile = file('log-level', 'debug\n');
    expect(
      validateEnvironment(ExampleEnvironment, { LOG_LEVEL: 'warn', LOG_LEVEL_FILE: levelFile })
        .LOG_LEVEL,
    ).toBe('warn');
    expect(
      validateEnvironment(ExampleEnvironment, { LOG_LEVEL: '', LOG_LEVEL_FILE: levelFile })
        .LOG_LEVEL,
    ).toBe('debug');
    // Not even a missing file matters then.
    expect(
      validateEnvironment(ExampleEnvironment, {
        LOG_LEVEL: 'warn',
        LOG_LEVEL_FILE: join(folder, 'absent'),
      }).LOG_LEVEL,
    ).toBe('warn');
  });

  it('validates the file content like any value', () => {
    expect(problemsOf({ PORT_FILE: file('port', 'abc\n') })).toEqual(['PORT']);
  });

  it('refuses to start when the file is missing or unreadable, naming the variable and the path', () => {
    const missing = join(folder, 'no-such-file');
    expect(() => validateEnvironment(ExampleEnvironment, { DATABASE_URL_FILE: missing })).toThrow(
      `DATABASE_URL_FILE: must name a readable file holding DATABASE_URL (${missing}: ENOENT)`,
    );
    expect(problemsOf({ PORT_FILE: folder, LOG_LEVEL_FILE: missing })).toEqual([
      'LOG_LEVEL_FILE',
      'PORT_FILE',
    ]);
  });

  it('never echoes the content of a file', () => {
    const secret = file('url', 'postgres://user:hunter2-secret@/\n');
    expect(() => validateEnvironment(ExampleEnvironment, { DATABASE_URL_FILE: secret })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });

  it('reads only the files of declared variables', () => {
    const environment = validateEnvironment(ExampleEnvironment, {
      UNRELATED_FILE: join(folder, 'absent'),
    });
    expect(environment).not.toHaveProperty('UNRELATED');
  });
});

describe('DATABASE_PASSWORD', () => {
  it('puts the password into a DATABASE_URL written without one, percent-encoded', () => {
    const environment = validateEnvironment(ExampleEnvironment, {
      DATABASE_URL: 'postgres://tessera@postgres:5432/auth',
      DATABASE_PASSWORD: 'p@ss/w:rd%41',
    });
    const url = new URL(environment.DATABASE_URL ?? '');
    expect(decodeURIComponent(url.password)).toBe('p@ss/w:rd%41');
    expect(url.username).toBe('tessera');
    expect(url.host).toBe('postgres:5432');
    expect(url.pathname).toBe('/auth');
  });

  it('replaces a password the URL has, and changes nothing without one', () => {
    const url = 'postgres://tessera:old@postgres:5432/auth';
    expect(
      validateEnvironment(ExampleEnvironment, { DATABASE_URL: url, DATABASE_PASSWORD: 'new' })
        .DATABASE_URL,
    ).toBe('postgres://tessera:new@postgres:5432/auth');
    expect(validateEnvironment(ExampleEnvironment, { DATABASE_URL: url }).DATABASE_URL).toBe(url);
  });

  it('comes from DATABASE_PASSWORD_FILE like any variable', () => {
    const folder = mkdtempSync(join(tmpdir(), 'tessera-env-files-'));
    try {
      const path = join(folder, 'postgres-password');
      writeFileSync(path, 'generated-secret\n');
      expect(
        validateEnvironment(ExampleEnvironment, {
          NODE_ENV: 'production',
          DATABASE_URL: 'postgres://tessera@postgres:5432/auth',
          DATABASE_PASSWORD_FILE: path,
        }).DATABASE_URL,
      ).toBe('postgres://tessera:generated-secret@postgres:5432/auth');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('DATABASE_MIGRATION_URL', () => {
  it('takes DATABASE_MIGRATION_PASSWORD, from its file too, and leaves DATABASE_URL its own', () => {
    const folder = mkdtempSync(join(tmpdir(), 'tessera-env-files-'));
    try {
      const path = join(folder, 'auth-owner-database-password');
      writeFileSync(path, 'owner-secret\n');
      const environment = validateEnvironment(ExampleEnvironment, {
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://auth_service@postgres:5432/auth',
        DATABASE_PASSWORD: 'service-secret',
        DATABASE_MIGRATION_URL: 'postgres://auth_owner@postgres:5432/auth',
        DATABASE_MIGRATION_PASSWORD_FILE: path,
      });
      expect(environment.DATABASE_URL).toBe(
        'postgres://auth_service:service-secret@postgres:5432/auth',
      );
      expect(environment.DATABASE_MIGRATION_URL).toBe(
        'postgres://auth_owner:owner-secret@postgres:5432/auth',
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('must be a PostgreSQL URL when set', () => {
    expect(problemsOf({ DATABASE_MIGRATION_URL: 'http://example.com' })).toEqual([
      'DATABASE_MIGRATION_URL',
    ]);
  });
});

describe('TRUST_PROXY', () => {
  it.each(['', '1', '10.0.0.0/8', '10.0.0.0/8, loopback', '::1'])('accepts %j', (value) => {
    expect(problemsOf({ TRUST_PROXY: value })).toEqual([]);
  });
});

describe('METRICS_PORT', () => {
  it('is PORT + 6000 when unset, on loopback', () => {
    const environment = validateEnvironment(ExampleEnvironment, {});
    expect(environment.METRICS_PORT).toBeUndefined();
    expect(metricsPortOf(environment)).toBe(10000);
    expect(environment.METRICS_HOST).toBe('127.0.0.1');
    expect(metricsPortOf(validateEnvironment(ExampleEnvironment, { PORT: '13021' }))).toBe(19021);
  });

  it('takes a port of its own, or 0 for no metrics listener', () => {
    expect(metricsPortOf(validateEnvironment(ExampleEnvironment, { METRICS_PORT: '9464' }))).toBe(
      9464,
    );
    expect(metricsPortOf(validateEnvironment(ExampleEnvironment, { METRICS_PORT: '0' }))).toBe(0);
  });

  it.each(['-1', '65536', 'abc', '9.5'])('rejects METRICS_PORT=%s', (value) => {
    expect(problemsOf({ METRICS_PORT: value })).toEqual(['METRICS_PORT']);
  });

  it('must be set when PORT + 6000 is no port', () => {
    expect(() => validateEnvironment(ExampleEnvironment, { PORT: '60000' })).toThrow(
      'METRICS_PORT: is required when PORT + 6000 is above 65535',
    );
    expect(
      metricsPortOf(validateEnvironment(ExampleEnvironment, { PORT: '60000', METRICS_PORT: '0' })),
    ).toBe(0);
  });
});
