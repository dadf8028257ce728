#!/usr/bin/env bash
# What the official postgres image's entrypoint does, for the parts docker-compose.yml uses:
# as root, give the data directory to postgres and drop to it; on an empty data directory,
# initdb with POSTGRES_PASSWORD, run /docker-entrypoint-initdb.d/* against a server that listens
# on its socket only, then stop it; finally run the server on every interface.
set -euo pipefail

if [[ $(id -u) == 0 ]]; then
    mkdir -p "$PGDATA" /run/postgresql
    chown -R postgres:postgres "$PGDATA" /run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

export POSTGRES_USER=${POSTGRES_USER:-postgres}
if [[ ! -s $PGDATA/PG_VERSION ]]; then
    : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required: the password of the superuser}"
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
        --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 \
        -D "$PGDATA" >/dev/null
    printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    for script in /docker-entrypoint-initdb.d/*; do
        case $script in
            *.sh) if [[ -x $script ]]; then "$script"; else bash "$script"; fi ;;
            *.sql) psql --no-psqlrc -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" -f "$script" ;;
            *) [[ -e $script ]] && echo "ignoring $script" ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "PostgreSQL init process complete; ready for start up."
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
