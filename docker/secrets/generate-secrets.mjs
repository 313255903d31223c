// What docker-compose.yml's one-shot `secrets` service runs before anything else starts: it writes
// every secret the system needs into SECRETS_DIR (the `secrets` volume, never the repository),
// where PostgreSQL and the services read them through *_FILE variables.
//
//   postgres-password       POSTGRES_PASSWORD        the database superuser's password
//   key-encryption-key      KEY_ENCRYPTION_KEY       32 random bytes, base64 (auth-service)
//   <id>-client-secret      <ID>_CLIENT_SECRET       one per confidential client: every variable of
//                                                    this container named *_CLIENT_SECRET, e.g.
//                                                    RESOURCE_SERVICE_CLIENT_SECRET → resource-service
//   client-secrets          (all of the above)       auth-service's CLIENT_SECRETS: id=secret,…
//
// A variable with a value (from the shell or .env) is written to its file; an empty one keeps the
// file, generating it only when it is missing. So a restart changes nothing, and setting a value
// later replaces the generated one. Nothing is printed but file names.
//
// Plain Node.js without dependencies, so that compose runs it in the stock node image and the
// compose parity test (apps/system-e2e) runs this same file into a temporary folder.
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The `node` user (uid and gid 1000) that the service images run as. */
const SERVICE_USER = 1000;
const CLIENT_SECRET = /^([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)_CLIENT_SECRET$/;

const directory = process.env.SECRETS_DIR;
if (!directory) {
  console.error('generate-secrets: SECRETS_DIR is not set');
  process.exit(1);
}
mkdirSync(directory, { recursive: true, mode: 0o755 });

const randomSecret = () => randomBytes(32).toString('base64url');

const clients = Object.keys(process.env)
  .map((name) => CLIENT_SECRET.exec(name))
  .filter((match) => match !== null)
  .map(([variable, constant]) => ({
    id: constant.toLowerCase().replaceAll('_', '-'),
    variable,
  }))
  .sort((a, b) => a.id.localeCompare(b.id));

resolve('postgres-password', 'POSTGRES_PASSWORD', randomSecret);
resolve('key-encryption-key', 'KEY_ENCRYPTION_KEY', () => randomBytes(32).toString('base64'));
const clientSecrets = clients.map(
  ({ id, variable }) => `${id}=${resolve(`${id}-client-secret`, variable, randomSecret)}`,
);
save('client-secrets', clientSecrets.join(','), 'from the client secrets');

/** The secret in `file`: the variable's value when it has one, else the file's, else a new one. */
function resolve(file, variable, generate) {
  const given = process.env[variable] ?? '';
  if (given !== '') return save(file, given, `from ${variable}`);
  const kept = read(file) ?? '';
  if (kept !== '') {
    console.log(`generate-secrets: ${file} kept`);
    return kept;
  }
  return save(file, generate(), 'generated');
}

/** The file's content without its trailing newline; undefined when there is no such file. */
function read(file) {
  try {
    return readFileSync(join(directory, file), 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes `value` to `file` when it differs, whole or not at all, readable by its owner only. */
function save(file, value, how) {
  if (read(file) === value) {
    console.log(`generate-secrets: ${file} kept`);
    return value;
  }
  const path = join(directory, file);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${value}\n`, { mode: 0o400 });
  // In the container this runs as root; the services run as `node` (PostgreSQL's entrypoint reads
  // its file as root). Elsewhere, as in the tests, the file stays the current user's.
  if (process.getuid?.() === 0) chownSync(temporary, SERVICE_USER, SERVICE_USER);
  renameSync(temporary, path);
  console.log(`generate-secrets: ${file} ${how}`);
  return value;
}
