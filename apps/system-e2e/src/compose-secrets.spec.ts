import {
  composeServiceEnvironment,
  ComposeVolumes,
  readComposeFile,
} from '@tessera/platform-testing';
import type { VariableSource } from '@tessera/platform-testing';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../../..');
const composePath = resolve(root, 'docker-compose.yml');
/** The roles of docker/postgres/init.sql, each with a generated password. */
const ROLES = ['auth_owner', 'auth_service', 'resource_owner', 'resource_service'];
const roleFile = (role: string) => `${role.replaceAll('_', '-')}-database-password`;
/** Not a secret: SCRAM verifiers, which PostgreSQL's init (running as another user) reads. */
const VERIFIERS = 'database-roles.sql';

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
    expect(Object.keys(files).sort()).toEqual(
      [
        'client-secrets',
        'gateway-client-secret',
        'key-encryption-key',
        'postgres-password',
        'resource-service-client-secret',
        VERIFIERS,
        ...ROLES.map(roleFile),
      ].sort(),
    );
    // auth-service: 32 bytes of base64; client secrets 32+ base64url characters (CLIENT_SECRETS).
    expect(Buffer.from(files['key-encryption-key'], 'base64')).toHaveLength(32);
    for (const file of [
      'postgres-password',
      'gateway-client-secret',
      'resource-service-client-secret',
      ...ROLES.map(roleFile),
    ]) {
      expect(files[file]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    expect(files['client-secrets']).toBe(
      `gateway=${files['gateway-client-secret']},resource-service=${files['resource-service-client-secret']}`,
    );
    // Each different.
    expect(new Set(Object.values(files)).size).toBe(Object.keys(files).length);
  });

  it("gives PostgreSQL each role's password as a SCRAM verifier that accepts it, never the password", () => {
    const { files } = up();
    const statements = files[VERIFIERS].split('\n');
    expect(statements).toHaveLength(ROLES.length);
    for (const role of ROLES) {
      const password = files[roleFile(role)];
      expect(files[VERIFIERS]).not.toContain(password);
      const statement = statements.find((line) => line.startsWith(`ALTER ROLE "${role}" `));
      const verifier = /PASSWORD 'SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):([^']+)';$/.exec(
        statement ?? '',
      );
      expect({ role, verifier: verifier !== null }).toEqual({ role, verifier: true });
      // What PostgreSQL checks at a login (RFC 5802): the stored and server keys of the password.
      const [, iterations, salt, storedKey, serverKey] = verifier as RegExpExecArray;
      const salted = pbkdf2Sync(
        password,
        Buffer.from(salt, 'base64'),
        Number(iterations),
        32,
        'sha256',
      );
      const hmac = (text: string) => createHmac('sha256', salted).update(text).digest();
      expect({
        storedKey: createHash('sha256').update(hmac('Client Key')).digest('base64'),
        serverKey: hmac('Server Key').toString('base64'),
      }).toEqual({ storedKey, serverKey });
    }
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
      AUTH_SERVICE_DATABASE_PASSWORD: 'my-own-password-for-auth-service',
    };
    const { files } = up(own);
    expect(files).toEqual({
      ...generated,
      'postgres-password': own.POSTGRES_PASSWORD,
      'resource-service-client-secret': own.RESOURCE_SERVICE_CLIENT_SECRET,
      'client-secrets': `gateway=${generated['gateway-client-secret']},resource-service=${own.RESOURCE_SERVICE_CLIENT_SECRET}`,
      'auth-service-database-password': own.AUTH_SERVICE_DATABASE_PASSWORD,
      [VERIFIERS]: expect.stringContaining('ALTER ROLE "auth_service" PASSWORD'),
    });
    expect(files[VERIFIERS]).not.toBe(generated[VERIFIERS]);
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

  it('makes each secret readable by its owner only, and prints no secret', () => {
    const { files, output } = up();
    const folder = join(volumesFolder, 'secrets');
    for (const file of Object.keys(files)) {
      expect({ file, mode: statSync(join(folder, file)).mode & 0o777 }).toEqual({
        file,
        mode: file === VERIFIERS ? 0o444 : 0o400,
      });
    }
    for (const secret of Object.values(files)) expect(output).not.toContain(secret);
    expect(output).toContain('postgres-password generated');
  });
});
