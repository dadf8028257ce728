#!/usr/bin/env bash
# The docker-compose topology as plain processes on this machine, for CI (no Docker needed):
# PostgreSQL with one role and database per service (deploy/postgres/init.sh), the issuer and
# tasks-api release binaries with the environment docker-compose.yml gives them, and nginx with
# the same template the compose proxy uses; then the end-to-end and browser suites through the
# proxy. It also checks that docker-compose.yml is valid and has not drifted from what the
# services read.
#
#   deploy/ci-topology.sh
#
# Needs a PostgreSQL server at 127.0.0.1:5432 where user postgres may connect (trust), or
# PGHOST/PGPORT/PGUSER/PGPASSWORD naming another superuser. Installs nginx, envsubst and
# docker-compose with apt-get when they are missing. Every process it starts is stopped on exit;
# it exits non-zero when any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

ISSUER_PORT=18001
TASKS_PORT=18002
PROXY_LISTEN=127.0.0.1:18080
PROXY_URL=http://$PROXY_LISTEN
READY_TIMEOUT_SECONDS=${READY_TIMEOUT_SECONDS:-60}

TEMPLATE=deploy/nginx/default.conf.template
COMPOSE_FILE=docker-compose.yml

step() { printf '\n==> %s\n' "$*"; }
fail() {
    printf 'ci-topology: %s\n' "$*" >&2
    exit 1
}
random_hex() { od -An -v -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
now_ms() { date +%s%3N; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ci-topology.XXXXXX")
pids=()
drift=0

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if ((status != 0)); then
        local log
        for log in "$work"/logs/*.log; do
            [[ -s $log ]] || continue
            printf '\n--- last lines of %s\n' "${log##*/}" >&2
            tail -n 40 "$log" >&2
        done
        printf '\nci-topology: FAILED (exit %d)\n' "$status" >&2
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

need_package() { # command, Debian package
    command -v "$1" >/dev/null && return 0
    step "installing $2 (apt-get)"
    ((EUID == 0)) || fail "$1 is missing and this is not root: install the Debian package $2"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null
    command -v "$1" >/dev/null || fail "$2 installed but $1 is still not found"
}

mkdir -p "$work/logs" "$work/run/issuer" "$work/run/tasks-api" "$work/nginx"

# ---------------------------------------------------------------------------------------------
# The same environment variable NAMES as docker-compose.yml gives each service (the drift check
# below holds the two together); only the values differ: addresses on this machine.

export PGHOST=${PGHOST:-127.0.0.1}
export PGPORT=${PGPORT:-5432}
export PGUSER=${PGUSER:-postgres}
export ISSUER_DB_PASSWORD=${ISSUER_DB_PASSWORD:-$(random_hex 24)}
export TASKS_DB_PASSWORD=${TASKS_DB_PASSWORD:-$(random_hex 24)}
export SESSION_FEED_SECRET=${SESSION_FEED_SECRET:-$(random_hex 24)}

issuer_env=(
    DATABASE_URL="postgres://issuer:$ISSUER_DB_PASSWORD@$PGHOST:$PGPORT/issuer"
    HOST=127.0.0.1
    PORT="$ISSUER_PORT"
    JWT_ALGORITHM=EdDSA
    JWT_ISSUER=issuer
    JWT_AUDIENCE=tasks-api
    TRUSTED_PROXIES=127.0.0.1
    SESSION_FEED_SECRET="$SESSION_FEED_SECRET"
    RUST_LOG=info
)
tasks_env=(
    DATABASE_URL="postgres://tasks:$TASKS_DB_PASSWORD@$PGHOST:$PGPORT/tasks"
    HOST=127.0.0.1
    PORT="$TASKS_PORT"
    JWT_ALGORITHM=EdDSA
    JWKS_URL="http://127.0.0.1:$ISSUER_PORT/.well-known/jwks.json"
    JWT_ISSUER=issuer
    JWT_AUDIENCE=tasks-api
    SESSION_FEED_URL="http://127.0.0.1:$ISSUER_PORT/internal/session-ends"
    SESSION_FEED_SECRET="$SESSION_FEED_SECRET"
    RUST_LOG=info
)
proxy_env=(
    ISSUER_UPSTREAM="127.0.0.1:$ISSUER_PORT"
    TASKS_UPSTREAM="127.0.0.1:$TASKS_PORT"
    PROXY_PORT="$PROXY_LISTEN"
    WEB_ROOT="$work/web"
)

names_of() { printf '%s\n' "${@%%=*}" | sort -u; }

# ---------------------------------------------------------------------------------------------
step "docker-compose.yml is valid (docker-compose config -q)"
if command -v docker-compose >/dev/null; then
    compose=(docker-compose)
elif command -v docker >/dev/null && docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
else
    need_package docker-compose docker-compose
    compose=(docker-compose)
fi
# Dummy values for the variables compose insists on (`:?`); never a real secret.
cat >"$work/compose.env" <<'EOF'
POSTGRES_PASSWORD=ci-dummy-postgres-password
ISSUER_DB_PASSWORD=ci-dummy-issuer-db-password
TASKS_DB_PASSWORD=ci-dummy-tasks-db-password
SESSION_FEED_SECRET=ci-dummy-session-feed-secret
EOF
compose_config() {
    env -u POSTGRES_PASSWORD -u ISSUER_DB_PASSWORD -u TASKS_DB_PASSWORD -u SESSION_FEED_SECRET \
        "${compose[@]}" --env-file "$work/compose.env" -f "$COMPOSE_FILE" config "$@"
}
compose_config -q
compose_config >"$work/compose.resolved.yml"
echo "ok"

# ---------------------------------------------------------------------------------------------
step "release build"
cargo build --release --locked -p issuer -p tasks-api -p e2e

# ---------------------------------------------------------------------------------------------
step "drift: compose's variables are ones the services read; the proxy's match the template"

# `service NAME` lines for every environment variable of every service in the resolved config.
compose_env() {
    awk -v want="$1" '
        /^services:/ { in_services = 1; next }
        /^[^ ]/ { in_services = 0 }
        in_services && /^  [^ ]/ { service = $1; sub(/:$/, "", service); in_env = 0; next }
        in_services && /^    [^ ]/ { in_env = ($1 == "environment:"); next }
        in_services && in_env && service == want && /^      [^ -]/ {
            name = $1; sub(/:.*/, "", name); print name
        }' "$work/compose.resolved.yml" | sort -u
}

# The environment variables a service reads, as the service itself lists them.
known_vars() { # binary
    "$root/target/release/$1" --env-vars | sort -u
}

# Prints the lines of $2 that are not in $3 (sorted lists), prefixed by $1; counts them as drift.
report_extra() {
    local extra
    extra=$(comm -23 <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed '/^$/d')
    if [[ -n $extra ]]; then
        printf 'DRIFT %s: %s\n' "$1" "$(tr '\n' ' ' <<<"$extra")"
        drift=1
    fi
}

check_service() { # compose service, the names this script gives it
    local service=$1 script_names=$2 compose_names known
    compose_names=$(compose_env "$service")
    [[ -n $compose_names ]] || {
        echo "DRIFT $service: no environment in $COMPOSE_FILE"
        drift=1
    }
    known=$(known_vars "$service") || fail "\`$service --env-vars\` failed"
    [[ -n $known ]] || {
        echo "DRIFT $service: \`$service --env-vars\` listed nothing"
        drift=1
    }
    report_extra "$service: set by $COMPOSE_FILE, not read by $service (\`$service --env-vars\`)" \
        "$compose_names" "$known"
    report_extra "$service: set by $COMPOSE_FILE, not by this script" \
        "$compose_names" "$script_names"
    report_extra "$service: set by this script, not by $COMPOSE_FILE" \
        "$script_names" "$compose_names"
}
check_service issuer "$(names_of "${issuer_env[@]}")"
check_service tasks-api "$(names_of "${tasks_env[@]}")"

# shellcheck disable=SC2016 # a literal ${NAME}, as envsubst wants it
template_vars=$(grep -o '\${[A-Za-z_][A-Za-z0-9_]*}' "$TEMPLATE" | tr -d '${}' | sort -u)
proxy_compose_vars=$(compose_env proxy | grep -v '^NGINX_' || true)
report_extra "proxy: in $TEMPLATE, not set by $COMPOSE_FILE" "$template_vars" "$proxy_compose_vars"
report_extra "proxy: set by $COMPOSE_FILE, not used in $TEMPLATE" "$proxy_compose_vars" "$template_vars"
report_extra "proxy: in $TEMPLATE, not set by this script" "$template_vars" "$(names_of "${proxy_env[@]}")"
# The image substitutes only what NGINX_ENVSUBST_FILTER lets through.
filter=$(awk '/^  proxy:/ { p = 1; next } /^  [^ ]/ { p = 0 }
    p && $1 == "NGINX_ENVSUBST_FILTER:" { sub(/^[^:]*:[[:space:]]*/, ""); gsub(/\$\$/, "$"); gsub(/^'\''|'\''$/, ""); print }' \
    "$work/compose.resolved.yml")
if [[ -n $filter ]]; then
    report_extra "proxy: in $TEMPLATE, not let through by NGINX_ENVSUBST_FILTER ($filter)" \
        "$template_vars" "$(grep -E -- "$filter" <<<"$template_vars" || true)"
fi
((drift == 0)) && echo "ok: issuer, tasks-api and proxy agree with $COMPOSE_FILE"

# ---------------------------------------------------------------------------------------------
step "PostgreSQL: roles and databases (deploy/postgres/init.sh) at $PGHOST:$PGPORT"
if ! pg_isready -q -h "$PGHOST" -p "$PGPORT"; then
    if command -v pg_ctlcluster >/dev/null && [[ -d /etc/postgresql ]]; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
        for _ in $(seq 1 30); do
            pg_isready -q -h "$PGHOST" -p "$PGPORT" && break
            sleep 1
        done
    fi
fi
pg_isready -h "$PGHOST" -p "$PGPORT" || fail "PostgreSQL does not answer at $PGHOST:$PGPORT"
bash deploy/postgres/init.sh

# ---------------------------------------------------------------------------------------------
step "nginx configuration from $TEMPLATE"
need_package nginx nginx
need_package envsubst gettext-base
for pair in "${proxy_env[@]}"; do
    export "${pair?}"
done
# Exactly the template's own variables, as the image's NGINX_ENVSUBST_FILTER does.
# shellcheck disable=SC2016,SC2086 # literal ${NAME}s; one per word of $template_vars
envsubst "$(printf '${%s} ' $template_vars)" <"$TEMPLATE" >"$work/nginx/proxy.conf"
cat >"$work/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/logs/nginx-error.log warn;
events { worker_connections 256; }
http {
    access_log $work/logs/nginx-access.log;
    client_body_temp_path $work/nginx/client_body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    include $work/nginx/proxy.conf;
}
EOF
# The web client, as compose mounts it. Workers drop root for an unprivileged user, who must
# reach it and the temporary directories.
cp -r web "$work/web"
chmod -R a+rX "$work/web"
chmod 755 "$work" "$work/nginx"
nginx_cmd=(nginx -e "$work/logs/nginx-error.log" -p "$work/nginx/" -c "$work/nginx/nginx.conf")
"${nginx_cmd[@]}" -t -q || fail "nginx refuses the configuration filled from $TEMPLATE"
echo "ok"

# ---------------------------------------------------------------------------------------------
step "starting issuer (:$ISSUER_PORT), tasks-api (:$TASKS_PORT) and nginx ($PROXY_LISTEN)"
start_ms=$(now_ms)
# Each runs with exactly its environment (env -i) in a directory of its own, so neither the
# caller's variables nor a developer's .env can change what is tested.
(cd "$work/run/issuer" && exec env -i PATH="$PATH" "${issuer_env[@]}" "$root/target/release/issuer") \
    >"$work/logs/issuer.log" 2>&1 &
pids+=("$!")
(cd "$work/run/tasks-api" && exec env -i PATH="$PATH" "${tasks_env[@]}" "$root/target/release/tasks-api") \
    >"$work/logs/tasks-api.log" 2>&1 &
pids+=("$!")
"${nginx_cmd[@]}" >"$work/logs/nginx.log" 2>&1 &
pids+=("$!")

status_of() { curl --noproxy '*' -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" || true; }
deadline=$((start_ms + READY_TIMEOUT_SECONDS * 1000))
while :; do
    issuer_ready=$(status_of "http://127.0.0.1:$ISSUER_PORT/ready")
    tasks_ready=$(status_of "http://127.0.0.1:$TASKS_PORT/ready")
    # The proxy forwards to tasks-api: a tokenless list is tasks-api's 401.
    proxy_ready=$(status_of "$PROXY_URL/api/ci-probe/tasks")
    if [[ $issuer_ready == 200 && $tasks_ready == 200 && $proxy_ready == 401 ]]; then
        break
    fi
    for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null || fail "a process exited during start-up (pid $pid)"
    done
    if (($(now_ms) > deadline)); then
        fail "not ready after ${READY_TIMEOUT_SECONDS}s: issuer /ready $issuer_ready, tasks-api /ready $tasks_ready, proxy $proxy_ready"
    fi
    sleep 0.05
done
echo "all ready in $(($(now_ms) - start_ms)) ms (from process start to issuer, tasks-api and proxy answering)"

# ---------------------------------------------------------------------------------------------
step "end-to-end suite through the proxy ($PROXY_URL)"
e2e_status=0
target/release/e2e "$PROXY_URL" || e2e_status=$?

step "the web client in Chromium through the proxy ($PROXY_URL)"
browser_status=0
BASE_URL="$PROXY_URL" scripts/browser-tests.sh || browser_status=$?

step "summary"
failed=()
((drift == 0)) || failed+=("drift check")
((e2e_status == 0)) || failed+=("e2e (exit $e2e_status)")
((browser_status == 0)) || failed+=("browser suite (exit $browser_status)")
if ((${#failed[@]})); then
    fail "failed: ${failed[*]}"
fi
echo "all green"
