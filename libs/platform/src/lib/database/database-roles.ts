import { Client } from 'pg';
import type { QueryRunner } from 'typeorm';

/**
 * The two PostgreSQL roles of a service's database (docs/security-model.md, "Database roles"):
 *
 * - `owner` (`<database>_owner`) owns the database, its schema objects and the triggers on them;
 *   migrations run as it. It is no superuser and can create neither roles nor databases.
 * - `service` (`<database>_service`) is what the running service logs in as: it owns nothing, may
 *   connect to its own database only, and has only the table privileges `grantServicePrivileges`
 *   gives it, so it can neither change the schema nor switch off a trigger.
 */
export interface DatabaseRoles {
  owner: string;
  service: string;
}

/** The roles of `database`, by the naming docker/postgres/init.sql uses too. */
export function databaseRoles(database: string): DatabaseRoles {
  return { owner: `${database}_owner`, service: `${database}_service` };
}

/** Attributes of both roles: nothing beyond logging in (the owner's power is what it owns). */
const NO_PRIVILEGES = 'NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS';

/** A provisioned database: the service role's URL, and the migrations' URL acting as the owner. */
export interface ProvisionedDatabase {
  roles: DatabaseRoles;
  url: string;
  migrationUrl: string;
}

/**
 * As the superuser of `adminUrl` (any database of the server): creates `database` owned by its
 * owner role unless it exists, the two roles unless they exist, gives the service role
 * `servicePassword`, and closes the database to every other role. Idempotent; a database made
 * before these roles existed has its objects handed to the owner role. The owner role cannot log
 * in: the migrations' URL is the superuser's, acting as the owner.
 */
export async function provisionServiceDatabase(
  adminUrl: string,
  database: string,
  servicePassword: string,
): Promise<ProvisionedDatabase> {
  const roles = databaseRoles(database);
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await provisionOnServer(admin, database, roles, servicePassword);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const inDatabase = new Client({ connectionString: url.toString() });
  await inDatabase.connect();
  try {
    await inDatabase.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    await inDatabase.query(handOverToOwner(inDatabase.escapeLiteral(roles.owner)));
  } finally {
    await inDatabase.end();
  }
  const serviceUrl = new URL(url);
  serviceUrl.username = encodeURIComponent(roles.service);
  serviceUrl.password = encodeURIComponent(servicePassword);
  return { roles, url: serviceUrl.toString(), migrationUrl: actingAs(url.toString(), roles.owner) };
}

/**
 * `url` (a superuser's) acting as `role` from its first statement on: PostgreSQL's `role` setting
 * in the connection's startup options, so that what it creates belongs to `role`.
 */
export function actingAs(url: string, role: string): string {
  const acting = new URL(url);
  acting.searchParams.set('options', `-c role=${role}`);
  return acting.toString();
}

async function provisionOnServer(
  admin: Client,
  database: string,
  roles: DatabaseRoles,
  servicePassword: string,
): Promise<void> {
  const owner = admin.escapeIdentifier(roles.owner);
  const service = admin.escapeIdentifier(roles.service);
  const name = admin.escapeIdentifier(database);
  const existing = await admin.query<{ rolname: string }>(
    'SELECT rolname FROM pg_roles WHERE rolname = ANY($1)',
    [[roles.owner, roles.service]],
  );
  const has = (role: string) => existing.rows.some((row) => row.rolname === role);
  await admin.query(
    `${has(roles.owner) ? 'ALTER' : 'CREATE'} ROLE ${owner} NOLOGIN ${NO_PRIVILEGES}`,
  );
  await admin.query(
    `${has(roles.service) ? 'ALTER' : 'CREATE'} ROLE ${service} LOGIN NOINHERIT ${NO_PRIVILEGES} ` +
      `PASSWORD ${admin.escapeLiteral(servicePassword)}`,
  );
  const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  await admin.query(
    found.rowCount === 0
      ? `CREATE DATABASE ${name} OWNER ${owner}`
      : `ALTER DATABASE ${name} OWNER TO ${owner}`,
  );
  await admin.query(`REVOKE ALL ON DATABASE ${name} FROM PUBLIC`);
  await admin.query(`GRANT CONNECT ON DATABASE ${name} TO ${service}`);
}

/**
 * Makes `owner` the owner of whatever the schema holds that another role owns: the tables,
 * sequences and functions a service created while it still connected as the superuser (data of
 * `npm start` from before these roles). Tables first: a column's sequence follows its table.
 */
function handOverToOwner(ownerLiteral: string): string {
  return `DO $$
    DECLARE
      owner_role regrole := ${ownerLiteral}::regrole;
      item record;
    BEGIN
      FOR item IN SELECT c.oid::regclass AS name FROM pg_class c
          WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
            AND c.relowner <> owner_role LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO %I', item.name, owner_role::text);
      END LOOP;
      FOR item IN SELECT c.oid::regclass AS name FROM pg_class c
          WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'S'
            AND c.relowner <> owner_role LOOP
        EXECUTE format('ALTER SEQUENCE %s OWNER TO %I', item.name, owner_role::text);
      END LOOP;
      FOR item IN SELECT p.oid::regprocedure AS name FROM pg_proc p
          WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> owner_role LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO %I', item.name, owner_role::text);
      END LOOP;
    END
  $$`;
}

/**
 * As the owner, after the migrations: what the service role may do on the schema, asserted anew
 * at every start. Read and write every table; on `appendOnly` tables only read and append (no
 * UPDATE, DELETE or TRUNCATE); on the migrations table only read, so that it cannot mark a
 * migration as applied; use the sequences; call the functions (a SECURITY DEFINER one, such as
 * auth-service's audit pruning, acts as the owner within its own limits). Grants made to
 * PUBLIC are not touched.
 */
export async function grantServicePrivileges(
  runner: QueryRunner,
  serviceRole: string,
  appendOnly: readonly string[],
  migrationsTable: string,
): Promise<void> {
  const role = quoteIdentifier(serviceRole);
  await runner.startTransaction();
  try {
    await runner.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
    await runner.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`,
    );
    await runner.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
    await runner.query(`GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO ${role}`);
    await runner.query(
      `REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ${quoteIdentifier(migrationsTable)} FROM ${role}`,
    );
    for (const table of appendOnly) {
      await runner.query(
        `REVOKE UPDATE, DELETE, TRUNCATE ON ${quoteIdentifier(table)} FROM ${role}`,
      );
    }
    await runner.commitTransaction();
  } catch (error) {
    await runner.rollbackTransaction();
    throw error;
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
