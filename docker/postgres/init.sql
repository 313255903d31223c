-- One database per service, each with two roles of its own (docs/security-model.md, "Database
-- roles"): <database>_owner owns the database and everything in it, and is the role migrations run
-- as; <database>_service is the role the running service logs in as, which owns nothing, gets from
-- the service's start only the table privileges it needs, and may connect to its own database only.
-- Neither is a superuser, and neither can create roles or databases.
-- The postgres image runs this once, when its data volume is empty, as POSTGRES_USER against the
-- `postgres` database; database-roles.sh then gives each role its generated password. Each service
-- creates its own tables through its migrations at start-up.
-- Plain SQL, one statement per line, so a test can replay it against any PostgreSQL.

CREATE ROLE auth_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE auth_service LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE DATABASE auth OWNER auth_owner;
REVOKE ALL ON DATABASE auth FROM PUBLIC;
GRANT CONNECT ON DATABASE auth TO auth_service;

CREATE ROLE resource_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE resource_service LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE DATABASE resource OWNER resource_owner;
REVOKE ALL ON DATABASE resource FROM PUBLIC;
GRANT CONNECT ON DATABASE resource TO resource_service;
