#!/usr/bin/env bash
# docker-compose.yml run for real: the images built from the Dockerfile, the stack up in
# containers, then the end-to-end suite (compose's test profile) and the browser suite through
# the published proxy port, with a Prometheus on this machine scraping both services meanwhile,
# the promises of the deployment checked, one container restarted and
# the stack taken down and up again without losing data. Everything is torn down at the end,
# also on failure; it prints what failed and exits non-zero.
#
#   deploy/compose-test.sh               # a Docker engine with Docker Hub
#   deploy/compose-test.sh --stand-ins   # no registry: podman and the images of deploy/stand-ins
#
# Without a Docker engine it serves podman's (deploy/podman-engine.sh). The stack runs as its own
# compose project (tasks-compose-test), with passwords made for the run, on 127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prometheus.sh

PROJECT=tasks-compose-test
PROXY_URL=http://127.0.0.1:8080
READY_TIMEOUT_SECONDS=${READY_TIMEOUT_SECONDS:-180}
APP_UID=10001

step() { printf '\n==> %s\n' "$*"; }
fail() {
    printf 'compose-test: %s\n' "$*" >&2
    exit 1
}
random_hex() { od -An -v -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

stand_ins=0
[[ ${1:-} == --stand-ins ]] && stand_ins=1

work=$(mktemp -d "${TMPDIR:-/tmp}/compose-test.XXXXXX")
health_loop=
failed=()

# ---------------------------------------------------------------------------------------------
# The engine: Docker's if one answers, else podman's API.
if ! docker info >/dev/null 2>&1; then
    DOCKER_HOST=$(deploy/podman-engine.sh)
    export DOCKER_HOST
fi
if curl -sf --unix-socket "${DOCKER_HOST#unix://}" http://d/version 2>/dev/null | grep -q Podman; then
    podman=1
    cli=(podman)
else
    podman=0
    cli=(docker)
fi
if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
else
    compose=(docker-compose)
fi

# Passwords made for this run; with --stand-ins, the images that replace the official ones.
cat >"$work/.env" <<EOF
POSTGRES_PASSWORD=$(random_hex 24)
ISSUER_DB_PASSWORD=$(random_hex 24)
TASKS_DB_PASSWORD=$(random_hex 24)
SESSION_FEED_SECRET=$(random_hex 24)
EOF
# podman's DNS answers on each network's gateway for that network's names only (Docker's answers
# on 127.0.0.11 for all); the proxy asks the backend network's, docker-compose.yml's 172.28.0.1.
((podman == 0)) || echo "PROXY_RESOLVER=172.28.0.1" >>"$work/.env"
if ((stand_ins)); then
    step "stand-in images (deploy/stand-ins/build.sh)"
    deploy/stand-ins/build.sh --env "$work/images.env"
    cat "$work/images.env" >>"$work/.env"
fi
# shellcheck disable=SC1091 # made just above
source "$work/.env"
dc() { "${compose[@]}" --project-name "$PROJECT" --env-file "$work/.env" "$@"; }
container_of() { dc ps -q "$1"; }

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    [[ -z $health_loop ]] || kill "$health_loop" 2>/dev/null || true
    [[ -z ${prometheus_pid:-} ]] || kill "$prometheus_pid" 2>/dev/null || true
    if ((status != 0)); then
        local id
        for id in $(dc ps -q 2>/dev/null); do
            printf '\n--- the last lines of %s\n' "$("${cli[@]}" inspect --format '{{.Name}}' "$id")" >&2
            "${cli[@]}" logs --tail 30 "$id" >&2 2>&1 || true
        done
        printf '\ncompose-test: FAILED (exit %d)%s\n' "$status" \
            "${failed[*]:+: ${failed[*]}}" >&2
    fi
    dc --profile test down --volumes --remove-orphans >/dev/null 2>&1 || true
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# podman runs health checks from systemd timers; without systemd nothing runs them, and
# `depends_on: condition: service_healthy` would wait for ever. This loop runs them instead.
if ((podman)); then
    (
        while sleep 2; do
            for id in $(podman ps -q --filter "label=com.docker.compose.project=$PROJECT"); do
                podman healthcheck run "$id" >/dev/null 2>&1 || true
            done
        done
    ) &
    health_loop=$!
fi

# ---------------------------------------------------------------------------------------------
step "docker-compose.yml is valid"
dc config -q
dc config >"$work/resolved.yml"
echo "ok"

step "images built from the Dockerfile"
build_start=$(date +%s)
dc --profile test build
echo "built in $(($(date +%s) - build_start)) s"
for image in issuer tasks-api e2e; do
    printf '%-26s %s\n' "localhost/tasks/$image" \
        "$("${cli[@]}" image inspect --format '{{.Size}}' "localhost/tasks/$image" | numfmt --to=si)"
done

# ---------------------------------------------------------------------------------------------
wait_healthy() { # services…
    local deadline=$(($(date +%s) + READY_TIMEOUT_SECONDS)) service state pending
    while :; do
        pending=()
        for service in "$@"; do
            state=$("${cli[@]}" inspect --format '{{.State.Health.Status}}' "$(container_of "$service")" 2>/dev/null || true)
            [[ $state == healthy ]] || pending+=("$service:${state:-none}")
        done
        ((${#pending[@]} == 0)) && [[ $(status_of "$PROXY_URL/api/probe/tasks") == 401 ]] && return 0
        (($(date +%s) < deadline)) || fail "not healthy after ${READY_TIMEOUT_SECONDS}s: ${pending[*]:-proxy}"
        sleep 1
    done
}
status_of() { curl --noproxy '*' -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" || true; }

up() {
    local start
    start=$(date +%s)
    dc up -d
    wait_healthy postgres issuer tasks-api
    echo "healthy and answering through the proxy in $(($(date +%s) - start)) s"
}

step "docker compose up"
# A clean slate: what an interrupted run may have left of this project goes first.
dc --profile test down --volumes --remove-orphans
up

# ---------------------------------------------------------------------------------------------
step "each service runs as uid $APP_UID, PostgreSQL's data is in its volume"
for service in issuer tasks-api; do
    uid=$(dc exec -T "$service" awk '/^Uid:/ { print $2 }' /proc/1/status)
    [[ $uid == "$APP_UID" ]] || fail "$service runs as uid $uid, not $APP_UID"
    echo "ok  $service: uid $uid"
done
volume=$("${cli[@]}" inspect --format \
    '{{range .Mounts}}{{if eq .Destination "/var/lib/postgresql/data"}}{{.Name}}{{end}}{{end}}' \
    "$(container_of postgres)")
[[ $volume == "${PROJECT}_postgres-data" ]] || fail "PostgreSQL's data is not in the named volume (found '$volume')"
dc exec -T postgres test -s /var/lib/postgresql/data/PG_VERSION || fail "no cluster in the volume"
echo "ok  postgres: data in volume $volume"

step "PostgreSQL's init: a role and a database per service; tasks cannot read the issuer's"
as_role() { # role password database sql
    dc exec -T -e PGPASSWORD="$2" postgres \
        psql --no-psqlrc -h 127.0.0.1 -U "$1" -d "$3" -tAc "$4" 2>&1
}
tables=$(as_role issuer "$ISSUER_DB_PASSWORD" issuer "SELECT count(*) FROM users") ||
    fail "the issuer's role cannot read its own database: $tables"
echo "ok  issuer reads database issuer ($tables users)"
as_role tasks "$TASKS_DB_PASSWORD" tasks "SELECT count(*) FROM tasks" >/dev/null ||
    fail "the tasks role cannot read its own database"
echo "ok  tasks reads database tasks"
if denied=$(as_role tasks "$TASKS_DB_PASSWORD" issuer "SELECT count(*) FROM users"); then
    fail "the tasks role read the issuer's users: $denied"
fi
grep -q 'permission denied for database' <<<"$denied" || fail "unexpected refusal: $denied"
echo "ok  tasks is refused by database issuer: ${denied##*FATAL:  }"

step "only the proxy publishes a port, 127.0.0.1:8080; the session feed is not routed"
# What compose publishes, service by service: the proxy's port 80 and nothing of the others'.
published=$(dc port proxy 80)
[[ $published == 127.0.0.1:8080 ]] || fail "the proxy's port 80 is published as '$published'"
echo "ok  proxy: 80 published on $published"
for pair in issuer:8001 tasks-api:8002 postgres:5432; do
    published=$(dc port "${pair%:*}" "${pair#*:}" 2>/dev/null || true)
    [[ -z $published ]] || fail "${pair%:*} publishes ${pair#*:} on $published"
    echo "ok  ${pair%:*}: ${pair#*:} not published"
done
feed=$(status_of "$PROXY_URL/internal/session-ends" -H "authorization: Bearer $SESSION_FEED_SECRET")
[[ $feed == 404 ]] || fail "the proxy answers /internal/session-ends with $feed, not 404"
echo "ok  /internal/session-ends through the proxy: 404"

# ---------------------------------------------------------------------------------------------
step "drift: compose's variables are ones the services read; the proxy's match the template"
compose_env() { # service: the names of its environment in the resolved file
    awk -v want="$1" '
        /^services:/ { in_services = 1; next }
        /^[^ ]/ { in_services = 0 }
        in_services && /^  [^ ]/ { service = $1; sub(/:$/, "", service); in_env = 0; next }
        in_services && /^    [^ ]/ { in_env = ($1 == "environment:"); next }
        in_services && in_env && service == want && /^      [^ -]/ {
            name = $1; sub(/:.*/, "", name); print name
        }' "$work/resolved.yml" | sort -u
}
extra() { comm -23 <(printf '%s\n' "$1") <(printf '%s\n' "$2") | sed '/^$/d' | tr '\n' ' '; }
drift=0
for service in issuer tasks-api; do
    read_by_service=$(dc exec -T "$service" "$service" --env-vars | tr -d '\r' | sort -u)
    unread=$(extra "$(compose_env "$service")" "$read_by_service")
    [[ -z $unread ]] || { echo "DRIFT $service: set by docker-compose.yml, not read: $unread"; drift=1; }
done
template=deploy/nginx/default.conf.template
# shellcheck disable=SC2016 # a literal ${NAME}, as envsubst wants it
# NGINX_* names are the image's own (the filter).
template_vars=$(grep -o '\${[A-Za-z_][A-Za-z0-9_]*}' "$template" | tr -d '${}' | grep -v '^NGINX_' | sort -u)
proxy_vars=$(compose_env proxy | grep -v '^NGINX_' || true)
missing=$(extra "$template_vars" "$proxy_vars")
[[ -z $missing ]] || { echo "DRIFT proxy: in $template, not set: $missing"; drift=1; }
unused=$(extra "$proxy_vars" "$template_vars")
[[ -z $unused ]] || { echo "DRIFT proxy: set, not in $template: $unused"; drift=1; }
# What the template became in the container: no ${NAME} left unfilled.
if dc exec -T proxy grep -n '\${' /etc/nginx/conf.d/default.conf; then
    echo "DRIFT proxy: variables left unfilled in the rendered configuration"
    drift=1
fi
((drift == 0)) || fail "docker-compose.yml, the template and the services disagree"
echo "ok: issuer, tasks-api and proxy agree with docker-compose.yml"

# ---------------------------------------------------------------------------------------------
run_suites() { # label
    step "end-to-end suite: compose's test profile, on the edge network, to http://proxy $1"
    # The container `docker compose --profile test run --rm e2e` starts, started by the engine:
    # docker-compose 1 refuses to reuse a network that podman made (it takes podman's IPAM option
    # "driver" for a change of configuration).
    "${cli[@]}" run --rm --network "${PROJECT}_edge" localhost/tasks/e2e http://proxy ||
        failed+=("e2e $1")
    step "the web client in Chromium through $PROXY_URL $1"
    BASE_URL=$PROXY_URL scripts/browser-tests.sh || failed+=("browser suite $1")
}

# A Prometheus on this machine scrapes each service where it listens, on the backend network (the
# proxy does not route /metrics), while the suites run on the fresh stack. Where this engine's
# container addresses cannot be reached from the machine, this is said and left to the process
# topology's check (scripts/observability.sh).
step "Prometheus on this machine, scraping the issuer and tasks-api containers"
address_of() { # service port
    local ip
    ip=$("${cli[@]}" inspect --format "{{(index .NetworkSettings.Networks \"${PROJECT}_backend\").IPAddress}}" \
        "$(container_of "$1")")
    echo "$ip:$2"
}
targets=("$(address_of issuer 8001)" "$(address_of tasks-api 8002)")
scraping=1
for target in "${targets[@]}"; do
    [[ $(status_of "http://$target/metrics") == 200 ]] || scraping=0
done
signins='sum(issuer_signins_total{outcome="success"})'
requests='sum(http_request_duration_seconds_count{job="services"})'
if ((scraping)); then
    prometheus_start "$work/prometheus" "${targets[@]}"
    prometheus_scraped
    before=("$(prometheus_query "$signins")" "$(prometheus_query "$requests")")
    echo "ok  scraping ${targets[*]}"
else
    echo "skipped: ${targets[*]} cannot be reached from this machine"
fi

run_suites "on a fresh stack"

if ((scraping)); then
    step "what Prometheus saw of the suites; the labels of each service's scrape"
    prometheus_scraped
    after=("$(prometheus_query "$signins")" "$(prometheus_query "$requests")")
    echo "query: $signins  before: ${before[0]}  after: ${after[0]}"
    echo "query: $requests  before: ${before[1]}  after: ${after[1]}"
    prometheus_moved "${before[@]}" -- "${after[@]}" || failed+=("Prometheus: a series did not move")
    for target in "${targets[@]}"; do
        curl -sf "http://$target/metrics" >"$work/metrics-${target//[:.]/-}.txt"
        check_scrape "$work/metrics-${target//[:.]/-}.txt" || failed+=("the metrics of $target")
    done
    kill "$prometheus_pid"
fi

step "an account and a task, to be found after a restart and after down and up"
json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# POSTs JSON through the proxy as a client would, waiting out a 429 as its Retry-After says (the
# suites before have used this address's allowance of sign-ups), for at most a minute; prints
# the body of a 2xx answer.
post_json() { # path body
    local deadline=$(($(date +%s) + 60)) status pause
    while :; do
        status=$(curl -s -o "$work/answer" -D "$work/headers" -w '%{http_code}' "$PROXY_URL$1" \
            -H 'content-type: application/json' -d "$2")
        [[ $status == 429 ]] && (($(date +%s) < deadline)) || break
        pause=$(awk 'tolower($1) == "retry-after:" { print $2 + 0 }' "$work/headers")
        sleep "${pause:-2}"
    done
    [[ $status == 2?? ]] || { echo "POST $1 answered $status" >&2; return 1; }
    cat "$work/answer"
}
email="kept-$(random_hex 6)@example.com"
password="kept across restarts $(random_hex 4)"
signup=$(post_json /signup "{\"email\": \"$email\", \"password\": \"$password\", \"name\": \"Kept\"}") ||
    fail "sign-up through the proxy failed"
token=$(json_field token <<<"$signup")
user_id=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["user"]["id"])' <<<"$signup")
curl -sf "$PROXY_URL/api/$user_id/tasks" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' -d '{"title": "survives restarts"}' >/dev/null ||
    fail "creating a task through the proxy failed"
task_titles() { # token
    curl -sf "$PROXY_URL/api/$user_id/tasks" -H "authorization: Bearer $1" |
        python3 -c 'import json, sys; print(",".join(t["title"] for t in json.load(sys.stdin)))'
}
[[ $(task_titles "$token") == "survives restarts" ]] || fail "the new task is not listed"
echo "ok  $email has one task"

step "restart tasks-api's container: the task and the session are still there"
dc restart tasks-api
wait_healthy tasks-api
# Until it has the issuer's keys and its list of ended sessions again, tasks-api answers 503.
restarted=$(date +%s)
until [[ $(status_of "$PROXY_URL/api/$user_id/tasks" -H "authorization: Bearer $token") == 200 ]]; do
    (($(date +%s) - restarted < 30)) ||
        fail "30 s after the restart the token of before is answered $(status_of "$PROXY_URL/api/$user_id/tasks" -H "authorization: Bearer $token")"
    sleep 0.2
done
titles=$(task_titles "$token")
[[ $titles == "survives restarts" ]] || fail "after the restart the tasks are '$titles'"
echo "ok  after the restart: the same token lists '$titles' (accepted again $(($(date +%s) - restarted)) s after healthy)"
run_suites "after tasks-api's restart"

step "docker compose down, then up: the accounts are in the volume"
dc down
up
signin=$(post_json /signin "{\"email\": \"$email\", \"password\": \"$password\"}") ||
    fail "signing in after down and up failed"
titles=$(task_titles "$(json_field token <<<"$signin")")
[[ $titles == "survives restarts" ]] || fail "after down and up the tasks are '$titles'"
echo "ok  after down and up: $email signs in and lists '$titles'"

((${#failed[@]} == 0)) || fail "failed: ${failed[*]}"
step "compose-test: all green"
