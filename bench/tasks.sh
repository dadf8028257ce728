#!/usr/bin/env bash
# Requests per second of an authenticated GET /api/{user_id}/tasks returning 20 tasks, against
# GET /health of the same tasks-api process in the same run (the ratio is the figure).
# Needs wrk and curl. Usage: bench/tasks.sh [seconds per run, default 15] [connections, default 32]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
connections=${2:-32}
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }

cargo build --release --locked -p issuer -p tasks-api >/dev/null
work=$(mktemp -d)
secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
BETTER_AUTH_SECRET=$secret DATABASE_URL="sqlite://$work/issuer.db" PORT=18201 RUST_LOG=warn target/release/issuer &
issuer=$!
BETTER_AUTH_SECRET=$secret DATABASE_URL="sqlite://$work/tasks.db" PORT=18202 RUST_LOG=warn target/release/tasks-api &
tasks=$!
trap 'kill $issuer $tasks 2>/dev/null; rm -rf "$work"' EXIT
until curl -sf http://127.0.0.1:18201/ready >/dev/null && curl -sf http://127.0.0.1:18202/ready >/dev/null; do sleep 0.1; done

answer=$(curl -sf http://127.0.0.1:18201/signup -H 'content-type: application/json' \
  -d '{"email": "bench@example.com", "password": "correct horse battery", "name": "Bench"}')
token=$(sed -E 's/.*"token":"([^"]+)".*/\1/' <<<"$answer")
user=$(sed -E 's/.*"user":\{"id":"([^"]+)".*/\1/' <<<"$answer")
list="http://127.0.0.1:18202/api/$user/tasks"
for i in $(seq 1 20); do
  curl -sf "$list" -H "authorization: Bearer $token" -H 'content-type: application/json' -d "{\"title\": \"task $i\"}" >/dev/null
done
[ "$(curl -sf "$list" -H "authorization: Bearer $token" | grep -o '"id"' | wc -l)" = 20 ]

run() { wrk -t2 -c"$connections" -d"${seconds}s" --latency "$@"; }
echo "## GET /api/{user_id}/tasks (20 tasks), $connections connections"
list_out=$(run -H "Authorization: Bearer $token" "$list"); grep -E "50%|99%|Requests/sec|Non-2xx|Socket" <<<"$list_out"
echo "## GET /health, same process"
health_out=$(run http://127.0.0.1:18202/health); grep -E "50%|99%|Requests/sec|Non-2xx|Socket" <<<"$health_out"
list_rps=$(awk '/Requests\/sec/ {print $2}' <<<"$list_out")
health_rps=$(awk '/Requests\/sec/ {print $2}' <<<"$health_out")
awk -v l="$list_rps" -v h="$health_rps" 'BEGIN { printf "list / health = %.2f\n", l / h }'
