// What docker-compose.yml's one-shot `secrets` service runs before anything else starts: it writes
// every secret the system needs into SECRETS_DIR (the `secrets` volume, never the repository),
// where PostgreSQL and the services read them through *_FILE variables.
//
//   postgres-password        POSTGRES_PASSWORD         the database superuser's password; only
//                                                      PostgreSQL's entrypoint reads it (as root),
//                                                      so in the container it belongs to root
//   key-encryption-key       KEY_ENCRYPTION_KEY        32 random bytes, base64 (auth-service)
//   <id>-client-secret       <ID>_CLIENT_SECRET        one per confidential client: every variable of
//                                                      this container named *_CLIENT_SECRET, e.g.
//                                                      RESOURCE_SERVICE_CLIENT_SECRET → resource-service
//   client-secrets           (all of the above)        auth-service's CLIENT_SECRETS: id=secret,…
//   <role>-database-password <ROLE>_DATABASE_PASSWORD  one per PostgreSQL role of a service (its
//                                                      owner and service roles, docker/postgres/
//                                                      init.sql): every variable named
//                                                      *_DATABASE_PASSWORD, e.g.
//                                                      AUTH_SERVICE_DATABASE_PASSWORD → auth_service
//   database-roles.sql       (all of the above)        ALTER ROLE … PASSWORD with each role's SCRAM
//                                                      verifier, never the password, for PostgreSQL's
//                                                      init (docker/postgres/database-roles.sh):
//                                                      readable by every user, as a verifier is no
//                                                      credential
//
// A variable with a value (from the shell or .env) is written to its file; an empty one keeps the
// file, generating it only when it is missing. So a restart changes nothing, and setting a value
// later replaces the generated one. Nothing is printed but file names.
//
// Plain Node.js without dependencies, so that compose runs it in the stock node image and the
// compose parity test (apps/system-e2e) runs this same file into a temporary folder.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The `node` user (uid and gid 1000) that the service images run as. */
const SERVICE_USER = 1000;
/** root: PostgreSQL's entrypoint reads its password file before it drops to the postgres user. */
const ROOT = 0;
const CLIENT_SECRET = /^([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)_CLIENT_SECRET$/;
const DATABASE_PASSWORD = /^([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)_DATABASE_PASSWORD$/;
/** PostgreSQL's default for SCRAM-SHA-256 verifiers. */
const SCRAM_ITERATIONS = 4096;

const directory = process.env.SECRETS_DIR;
if (!directory) {
  console.error('generate-secrets: SECRETS_DIR is not set');
  process.exit(1);
}
mkdirSync(directory, { recursive: true, mode: 0o755 });

const randomSecret = () => randomBytes(32).toString('base64url');

/** Every variable matching `pattern`, with the name its first group makes, sorted. */
function named(pattern) {
  return Object.keys(process.env)
    .map((name) => pattern.exec(name))
    .filter((match) => match !== null)
    .map(([variable, constant]) => ({ constant: constant.toLowerCase(), variable }))
    .sort((a, b) => a.constant.localeCompare(b.constant));
}

resolve('postgres-password', 'POSTGRES_PASSWORD', randomSecret, ROOT);
resolve('key-encryption-key', 'KEY_ENCRYPTION_KEY', () => randomBytes(32).toString('base64'));
const clientSecrets = named(CLIENT_SECRET).map(({ constant, variable }) => {
  const id = constant.replaceAll('_', '-');
  return `${id}=${resolve(`${id}-client-secret`, variable, randomSecret)}`;
});
save('client-secrets', clientSecrets.join(','), 'from the client secrets');
const roles = named(DATABASE_PASSWORD).map(({ constant: role, variable }) => {
  const password = resolve(
    `${role.replaceAll('_', '-')}-database-password`,
    variable,
    randomSecret,
  );
  return `ALTER ROLE "${role}" PASSWORD '${scramVerifier(role, password)}';`;
});
save('database-roles.sql', roles.join('\n'), 'from the database passwords', ROOT, 0o444);

/**
 * PostgreSQL's SCRAM-SHA-256 verifier of `password` (RFC 5802, RFC 7677), the form it stores:
 * what PostgreSQL needs to check a login, from which the password cannot be computed. The salt
 * is derived from the role and the password, so that an unchanged password keeps its file.
 */
function scramVerifier(role, password) {
  const salt = createHash('sha256').update(`${role}\0${password}`).digest().subarray(0, 16);
  const salted = pbkdf2Sync(password, salt, SCRAM_ITERATIONS, 32, 'sha256');
  const hmac = (key, text) => createHmac('sha256', key).update(text).digest();
  const storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest();
  const serverKey = hmac(salted, 'Server Key');
  return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** The secret in `file`: the variable's value when it has one, else the file's, else a new one. */
function resolve(file, variable, generate, owner = SERVICE_USER) {
  const given = process.env[variable] ?? '';
  if (given !== '') return save(file, given, `from ${variable}`, owner);
  const kept = read(file) ?? '';
  if (kept !== '') return save(file, kept, 'generated', owner);
  return save(file, generate(), 'generated', owner);
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

/**
 * Writes `value` to `file` when it differs, whole or not at all, readable by its owner only
 * (`mode`), who is `owner` when this runs as root.
 */
function save(file, value, how, owner = SERVICE_USER, mode = 0o400) {
  const path = join(directory, file);
  if (read(file) === value) {
    // A volume from before keeps its files, with today's owner and mode.
    if (process.getuid?.() === 0) chownSync(path, owner, owner);
    chmodSync(path, mode);
    console.log(`generate-secrets: ${file} kept`);
    return value;
  }
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${value}\n`, { mode });
  // In the container this runs as root; the services run as `node`. Elsewhere, as in the tests,
  // the file stays the current user's.
  if (process.getuid?.() === 0) chownSync(temporary, owner, owner);
  renameSync(temporary, path);
  console.log(`generate-secrets: ${file} ${how}`);
  return value;
}
