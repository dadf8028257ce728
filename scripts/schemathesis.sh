#!/usr/bin/env bash
# Schema-driven fuzzing: schemathesis (pinned, installed into a venv under target/) against each
# service's own /openapi.json, every operation, valid and invalid data, with a real bearer token.
# A response fails when it is a 5xx, a status or content type the document does not list, a body
# that does not match its schema, or an error that is not problem+json.
# One worker: with several, schemathesis' threads can trip a CPython 3.11 race in building ASTs
# ("AST constructor recursion depth mismatch", python/cpython#106905) and stop the run.
# Usage: scripts/schemathesis.sh [seconds per service, default 120]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
seconds=${1:-120}
version=4.32.5
venv=target/attack/venv
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==$version"
fi
cargo build --release --locked -p issuer -p tasks-api

work=$(mktemp -d)
trap 'stop_services; rm -rf "$work"' EXIT
secret=$(random_secret)
# Cheap hashes, no rate limit and no throttle: the run is about the API's answers, not its brakes.
start_service issuer "$work/issuer.log" BETTER_AUTH_SECRET="$secret" \
  DATABASE_URL="sqlite://$work/issuer.db" ARGON2_MEMORY_KIB=1024 ARGON2_ITERATIONS=1 \
  RATE_LIMIT_PER_MINUTE=100000000 RATE_LIMIT_BURST=100000000 SIGNIN_FREE_FAILURES=100000000
issuer="http://127.0.0.1:$port"
start_service tasks-api "$work/tasks.log" BETTER_AUTH_SECRET="$secret" \
  DATABASE_URL="sqlite://$work/tasks.db"
tasks="http://127.0.0.1:$port"
read -r token user_id < <(signup "$issuer" "schemathesis@example.com")
curl -sf "$tasks/api/$user_id/tasks" -H "authorization: Bearer $token" \
  -H 'content-type: application/json' -d '{"title": "seed"}' >/dev/null

failed=0
for service in "$issuer" "$tasks"; do
  echo "## schemathesis against $service/openapi.json for at most ${seconds}s"
  SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=scripts SCHEMATHESIS_USER_ID="$user_id" \
    "$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run "$service/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,problem_json_for_errors \
    --mode all --max-examples 100 --max-time "$seconds" --request-timeout 10 --workers 1 \
    --generation-database none --no-color \
    -H "Authorization: Bearer $token" || failed=1
done
for log in "$work"/*.log; do
  if grep -q 'panicked' "$log"; then echo "a panic in $log" >&2; failed=1; fi
done
exit $failed
