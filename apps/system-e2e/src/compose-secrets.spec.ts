import {
  composeServiceEnvironment,
  ComposeVolumes,
  readComposeFile,
} from '@tessera/platform-testing';
import type { VariableSource } from '@tessera/platform-testing';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../../..');
const composePath = resolve(root, 'docker-compose.yml');

/**
 * docker-compose.yml's one-shot `secrets` service (docker/secrets/generate-secrets.mjs), run here
 * as compose runs it: its command and environment from the file, a temporary folder standing in
 * for the `secrets` volume. Each test is a fresh volume; a `docker-compose up` is one run.
 */
describe("docker-compose.yml's secrets service", () => {
  let volumesFolder: string;
  beforeEach(() => {
    volumesFolder = mkdtempSync(join(tmpdir(), 'tessera-compose-volumes-'));
  });
  afterEach(() => rmSync(volumesFolder, { recursive: true, force: true }));

  /**
   * One `docker-compose up` with `variables` in the shell or .env: the volume's files after it.
   * `change` edits the environment docker-compose.yml gives the secrets service.
   */
  function up(
    variables: VariableSource = {},
    change: (environment: Record<string, string>) => void = () => undefined,
  ): { files: Record<string, string>; output: string } {
    const compose = readComposeFile(composePath, variables);
    const volumes = new ComposeVolumes(compose, root, volumesFolder);
    const environment = Object.fromEntries(
      Object.entries(composeServiceEnvironment(compose, 'secrets')).filter(
        (entry): entry is [string, string] => entry[1] !== undefined,
      ),
    );
    change(environment);
    const output = volumes.runNodeService('secrets', environment);
    const folder = volumes.hostPath('secrets', environment['SECRETS_DIR']) as string;
    const files = Object.fromEntries(
      readdirSync(folder).map((file) => [
        file,
        readFileSync(join(folder, file), 'utf8').replace(/\n$/, ''),
      ]),
    );
    return { files, output };
  }

  it('generates every secret on the first start, each in the form its reader accepts', () => {
    const { files } = up();
    expect(Object.keys(files).sort()).toEqual([
      'client-secrets',
      'key-encryption-key',
      'postgres-password',
      'resource-service-client-secret',
    ]);
    // auth-service: 32 bytes of base64; client secrets 32+ base64url characters (CLIENT_SECRETS).
    expect(Buffer.from(files['key-encryption-key'], 'base64')).toHaveLength(32);
    for (const file of ['postgres-password', 'resource-service-client-secret']) {
      expect(files[file]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    expect(files['client-secrets']).toBe(
      `resource-service=${files['resource-service-client-secret']}`,
    );
    // Each different.
    expect(new Set(Object.values(files)).size).toBe(Object.keys(files).length);
  });

  it('keeps them on every later start', () => {
    const first = up().files;
    expect(up().files).toEqual(first);
  });

  it('writes a value set in the shell or .env over the generated one, and into CLIENT_SECRETS', () => {
    const generated = up().files;
    const own = {
      POSTGRES_PASSWORD: 'my-own-database-password',
      RESOURCE_SERVICE_CLIENT_SECRET: 'my-own-client-secret-of-at-least-32-characters',
    };
    const { files } = up(own);
    expect(files).toEqual({
      ...generated,
      'postgres-password': own.POSTGRES_PASSWORD,
      'resource-service-client-secret': own.RESOURCE_SERVICE_CLIENT_SECRET,
      'client-secrets': `resource-service=${own.RESOURCE_SERVICE_CLIENT_SECRET}`,
    });
    // Unset again later, the value stays: PostgreSQL has taken that password.
    expect(up().files).toEqual(files);
  });

  it('takes a value set before the first start, generating nothing for it', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(up({ KEY_ENCRYPTION_KEY: key }).files['key-encryption-key']).toBe(key);
  });

  it('writes an empty CLIENT_SECRETS file when no service is a client, so that auth-service starts', () => {
    const { files } = up({}, (environment) => {
      for (const name of Object.keys(environment)) {
        if (name.endsWith('_CLIENT_SECRET')) delete environment[name];
      }
    });
    expect(files['client-secrets']).toBe('');
    expect(Object.keys(files).filter((file) => file.endsWith('-client-secret'))).toEqual([]);
  });

  it('makes each file readable by its owner only, and prints no secret', () => {
    const { files, output } = up();
    const folder = join(volumesFolder, 'secrets');
    for (const file of Object.keys(files)) {
      expect({ file, mode: statSync(join(folder, file)).mode & 0o777 }).toEqual({
        file,
        mode: 0o400,
      });
    }
    for (const secret of Object.values(files)) expect(output).not.toContain(secret);
    expect(output).toContain('postgres-password generated');
  });
});
