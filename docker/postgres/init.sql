-- One database per service: no service reads another's tables.
-- The postgres image runs this once, when its data volume is empty, as POSTGRES_USER against the
-- `postgres` database; each service creates its own tables through its migrations at start-up.
-- Plain SQL, one statement per line, so a test can replay it against any PostgreSQL.

CREATE DATABASE auth;
CREATE DATABASE resource;
