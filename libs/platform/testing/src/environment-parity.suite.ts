import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { environmentVariableNames, validateEnvironment } from '@tessera/platform';
import type { HttpServiceEnvironment } from '@tessera/platform';
import {
  composeServiceEnvironment,
  composeTestValue,
  composeVariableReferences,
  ComposeVolumes,
  readComposeFile,
  readEnvFileSections,
} from './compose-file';

export interface EnvironmentParitySuiteOptions {
  /** The service's name in docker-compose.yml and its section title in .env.example. */
  service: string;
  environmentClass: new () => HttpServiceEnvironment;
  /** Variables read only in development (e.g. DATA_DIR), which docker-compose.yml leaves out. */
  developmentOnly: string[];
  /**
   * The defaults docker-compose.yml gives on purpose instead of the code's, e.g. CORS_ORIGINS:
   * the origin of the example web app that compose runs beside the services.
   */
  composeDefaults?: Record<string, string>;
}

/**
 * Variables a service with a database reads in production too, which docker-compose.yml leaves
 * at their defaults: it starts a service only once PostgreSQL is healthy, so start-up retries are
 * moot there. .env.example documents them as it does every other.
 */
const COMPOSE_DEFAULTED = ['DATABASE_CONNECT_ATTEMPTS', 'DATABASE_CONNECT_RETRY_DELAY'];

/**
 * Keeps a service's configuration in step outside the code: docker-compose.yml gives it exactly
 * the variables it reads (but the development-only ones), with the code's defaults, and
 * .env.example documents each one with its default. Each service's config spec calls it once.
 */
export function describeEnvironmentParity({
  service: SERVICE,
  environmentClass,
  developmentOnly,
  composeDefaults = {},
}: EnvironmentParitySuiteOptions): void {
  const root = resolve(__dirname, '../../../..');
  const composePath = resolve(root, 'docker-compose.yml');
  const envExamplePath = resolve(root, '.env.example');

  const variables = environmentVariableNames(environmentClass);
  const codeDefaults = new environmentClass() as unknown as Record<string, unknown>;
  const rawCompose = readComposeFile(composePath);
  const rawEnvironment = composeServiceEnvironment(rawCompose, SERVICE);

  /** docker-compose's environment for the service, with test values for the file's required variables. */
  function interpolatedEnvironment() {
    // The whole file is interpolated, so every required variable in it needs a value.
    const required = composeVariableReferences(rawCompose)
      .filter((reference) => reference.operator?.endsWith('?'))
      .map((reference) => [reference.name, composeTestValue(reference.name)]);
    return composeServiceEnvironment(
      readComposeFile(composePath, Object.fromEntries(required)),
      SERVICE,
    );
  }

  /** A variable given as X_FILE (a secret in a file) counts as X. */
  const givenAs = (name: string) =>
    name.endsWith('_FILE') && variables.includes(name.slice(0, -'_FILE'.length))
      ? name.slice(0, -'_FILE'.length)
      : name;

  describe(`${SERVICE} configuration outside the code`, () => {
    let volumesFolder: string;
    beforeAll(() => {
      volumesFolder = mkdtempSync(join(tmpdir(), 'tessera-compose-volumes-'));
    });
    afterAll(() => rmSync(volumesFolder, { recursive: true, force: true }));

    /** What the container gets: its compose environment, and the volumes the secrets service filled. */
    function containerEnvironment(): Record<string, string> {
      const compose = readComposeFile(composePath, {});
      const volumes = new ComposeVolumes(compose, root, volumesFolder);
      const definedOnly = (environment: Record<string, string | undefined>) =>
        Object.fromEntries(
          Object.entries(environment).filter(
            (entry): entry is [string, string] => entry[1] !== undefined,
          ),
        );
      if ('secrets' in compose.services) {
        volumes.runNodeService(
          'secrets',
          definedOnly(composeServiceEnvironment(compose, 'secrets')),
        );
      }
      return volumes.onHost(SERVICE, definedOnly(interpolatedEnvironment()));
    }

    it('gets every variable it reads from docker-compose.yml (directly or as X_FILE), except the development-only ones and the start-up retries, and no other', () => {
      const expected = variables.filter(
        (name) => !developmentOnly.includes(name) && !COMPOSE_DEFAULTED.includes(name),
      );
      expect([...new Set(Object.keys(rawEnvironment).map(givenAs))].sort()).toEqual(expected);
    });

    it('accepts the environment docker-compose.yml gives it, running in production on every interface', () => {
      const environment: HttpServiceEnvironment & { DATABASE_URL?: string } = validateEnvironment(
        environmentClass,
        containerEnvironment(),
      );
      expect(environment).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0' });
      // A stateless service reads no DATABASE_URL and gets none.
      if (variables.includes('DATABASE_URL')) {
        expect(new URL(environment.DATABASE_URL ?? '').hostname).toBe('postgres');
      } else {
        expect(rawEnvironment).not.toHaveProperty('DATABASE_URL');
      }
    });

    it('reads each secret docker-compose.yml gives it as X_FILE from the volume its secrets service fills', () => {
      const given = containerEnvironment();
      const environment = validateEnvironment(environmentClass, given) as unknown as Record<
        string,
        unknown
      >;
      const files = Object.keys(rawEnvironment).filter((name) => givenAs(name) !== name);
      for (const name of files) {
        const variable = givenAs(name);
        const content = readFileSync(given[name], 'utf8').replace(/\r?\n$/, '');
        expect({ variable, empty: content === '' }).toEqual({ variable, empty: false });
        if (variable === 'DATABASE_PASSWORD') {
          expect(decodeURIComponent(new URL(String(environment['DATABASE_URL'])).password)).toBe(
            content,
          );
        } else {
          expect({ variable, value: String(environment[variable]) }).toEqual({
            variable,
            value: content,
          });
        }
      }
    });

    it('falls back in docker-compose.yml to the defaults the code uses', () => {
      // A tunable is filled from the shell variable of the same name with a default, e.g. ${LOG_LEVEL:-info}.
      const tunables = Object.keys(rawEnvironment).filter((name) =>
        composeVariableReferences(rawEnvironment[name]).some(
          (reference) => reference.name === name && (reference.operator?.endsWith('-') ?? false),
        ),
      );
      expect(tunables.length).toBeGreaterThan(0);
      const environment = interpolatedEnvironment();
      for (const name of tunables) {
        expect({ name, value: environment[name] }).toEqual({
          name,
          // Unset (undefined) in the code is empty in the file, as in .env.example.
          value: composeDefaults[name] ?? String(codeDefaults[name] ?? ''),
        });
      }
    });

    it('documents every variable it reads, and no other, with the default the code uses, in its section of .env.example', () => {
      const documented = readEnvFileSections(envExamplePath)[SERVICE] ?? {};
      const expected = Object.fromEntries(
        variables.map((name) => [name, String(codeDefaults[name] ?? '')]),
      );
      expect(documented).toEqual(expected);
    });

    it('documents in .env.example every variable docker-compose.yml takes from the shell for it', () => {
      const documented = Object.values(readEnvFileSections(envExamplePath)).flatMap(Object.keys);
      const taken = composeVariableReferences(rawCompose.services[SERVICE]).map(
        (reference) => reference.name,
      );
      expect(taken.filter((name) => !documented.includes(name))).toEqual([]);
    });
  });
}
