#!/bin/sh
# Run by the postgres image after init.sql, once, on an empty data volume: gives each role of
# init.sql the password the `secrets` service generated (or the one set in the shell or .env).
# The file holds SCRAM verifiers only, never a password (docker/secrets/generate-secrets.mjs).
# No `set` here: the entrypoint may source this file into its own shell, which stops on an error.
psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
  --file /run/secrets/tessera/database-roles.sql
