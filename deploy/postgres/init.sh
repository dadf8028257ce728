#!/usr/bin/env bash
# One database and one role per service, least privilege: role `issuer` owns database `issuer`,
# role `tasks` owns database `tasks`, and neither may connect to the other's database (so the
# tasks-api role can never read password hashes).
#
# Two ways to run it:
#  * the official postgres image runs it once, on an empty data directory, from
#    /docker-entrypoint-initdb.d (docker-compose.yml mounts it there);
#  * by hand or in CI against any server, as a superuser, through the usual libpq variables:
#      PGHOST=127.0.0.1 PGUSER=postgres ISSUER_DB_PASSWORD=… TASKS_DB_PASSWORD=… \
#        bash deploy/postgres/init.sh
#
# It is idempotent: running it again keeps the databases and their data, and sets the roles'
# passwords to the current values. Passwords go into DATABASE_URL, so keep them URL-safe
# (for example `openssl rand -hex 24`).

# The image sources a script that is not executable; run it in a shell of its own instead.
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    bash "${BASH_SOURCE[0]}"
    return
fi

set -euo pipefail

: "${ISSUER_DB_PASSWORD:?ISSUER_DB_PASSWORD is required (password of the role issuer)}"
: "${TASKS_DB_PASSWORD:?TASKS_DB_PASSWORD is required (password of the role tasks)}"

# Inside the image the server listens only on its socket during initialisation, as
# POSTGRES_USER; elsewhere the caller's PGHOST/PGUSER/PGPORT apply.
export PGUSER="${PGUSER:-${POSTGRES_USER:-postgres}}"
export PGDATABASE="${PGDATABASE:-${POSTGRES_DB:-postgres}}"

# The passwords reach psql through its environment (\getenv, psql 15 or later), never through
# its command line or the SQL text, and psql quotes them (:'name').
psql --no-psqlrc --quiet --set ON_ERROR_STOP=1 <<'SQL'
\getenv issuer_password ISSUER_DB_PASSWORD
\getenv tasks_password TASKS_DB_PASSWORD
-- Roles: may log in, nothing else.
SELECT format('CREATE ROLE %I', name)
  FROM (VALUES ('issuer'), ('tasks')) AS wanted(name)
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name)
\gexec
ALTER ROLE issuer WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'issuer_password';
ALTER ROLE tasks WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'tasks_password';

-- Databases, each owned by its service's role (CREATE DATABASE cannot run in a DO block).
SELECT format('CREATE DATABASE %I OWNER %I', name, name)
  FROM (VALUES ('issuer'), ('tasks')) AS wanted(name)
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = name)
\gexec
ALTER DATABASE issuer OWNER TO issuer;
ALTER DATABASE tasks OWNER TO tasks;

-- Only the owner may connect: PUBLIC (every role, the other service's included) may not.
REVOKE ALL ON DATABASE issuer FROM PUBLIC;
REVOKE ALL ON DATABASE tasks FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE issuer TO issuer;
GRANT CONNECT, TEMPORARY ON DATABASE tasks TO tasks;
SQL

# Inside each database: the schema the migrations use belongs to the owner, and nobody else
# may create objects in it (PostgreSQL < 15 lets PUBLIC create in `public`).
for db in issuer tasks; do
    psql --no-psqlrc --quiet --set ON_ERROR_STOP=1 --dbname "$db" --set owner="$db" <<'SQL'
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL
done

echo "init.sh: roles and databases issuer and tasks are ready"
