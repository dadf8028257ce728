#!/usr/bin/env bash
# What an operator sees, checked across a run of the end-to-end suite: the standalone process
# (both services, one registry) runs the suite twice, once per log format, at RUST_LOG=trace.
#   * a real Prometheus server scrapes /metrics, and the sign-in counter and the request
#     histogram it stored have moved once the suite has run (the query and its answer are printed);
#   * promtool parses the scraped text, and no label value is a user id, an email or a token;
#   * no log line, in either format, holds a password, a token, a password hash or the secret,
#     and in the JSON format every line is a JSON object, each request's with its request_id.
# Installs Debian's prometheus (for promtool and the server) when missing (scripts/prometheus.sh).
# Leaves the scraped metrics in target/observability/metrics.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source scripts/prometheus.sh
cargo build --locked -q -p standalone -p e2e

out=target/observability
work=$(mktemp -d)
trap 'stop_services; rm -rf "$work"' EXIT
mkdir -p "$out"
secret=$(random_secret)
# The e2e suite's password (e2e/src/main.rs).
password="correct horse battery staple"
failed=0
fail() {
  echo "FAIL $*" >&2
  failed=1
}

# start FORMAT: the standalone process with that log format; sets $base.
start() {
  local log="$work/$1.log"
  mkdir -p "$work/$1"
  LOG_FORMAT=$1 RUST_LOG=trace PORT=0 BETTER_AUTH_SECRET="$secret" MAIL_DIR="$work/$1/mail" \
    ISSUER_DATABASE_URL="sqlite://$work/$1/issuer.db" TASKS_DATABASE_URL="sqlite://$work/$1/tasks.db" \
    target/debug/standalone 2>"$log" &
  pids+=($!)
  base=
  for _ in $(seq 1 300); do
    base=$(grep -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$log" | head -n1 | sed 's/listening on //') || true
    [[ -n $base ]] && return 0
    sleep 0.1
  done
  cat "$log" >&2
  echo "the standalone process did not start" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
echo "## JSON logs, with Prometheus scraping"
start json
prometheus_start "$work/prometheus" "${base#http://}"
pids+=("$prometheus_pid")
prometheus_scraped
signins='sum(issuer_signins_total{outcome="success"})'
requests='sum(http_request_duration_seconds_count)'
before=("$(prometheus_query "$signins")" "$(prometheus_query "$requests")")
target/debug/e2e "$base" >"$work/e2e-json.txt" || { cat "$work/e2e-json.txt"; fail "the e2e suite"; }
tail -n1 "$work/e2e-json.txt"
prometheus_scraped
after=("$(prometheus_query "$signins")" "$(prometheus_query "$requests")")
echo "query: $signins  before: ${before[0]}  after: ${after[0]}"
echo "query: $requests  before: ${before[1]}  after: ${after[1]}"
prometheus_moved "${before[@]}" -- "${after[@]}" || fail "a series did not move"
curl -sf "$base/metrics" >"$out/metrics.txt"
check_scrape "$out/metrics.txt" || fail "the scraped metrics"
kill "${pids[0]}"

echo "## text logs"
start text
target/debug/e2e "$base" >"$work/e2e-text.txt" || { cat "$work/e2e-text.txt"; fail "the e2e suite"; }
tail -n1 "$work/e2e-text.txt"
kill "${pids[-1]}"
sleep 0.5

for format in json text; do
  log="$work/$format.log"
  echo "$format: $(wc -l <"$log") log lines"
  # A token: the start of every JWT's header.
  for what in "password:$password" "token:eyJ" "hash:\$argon2id\$" "secret:$secret"; do
    if grep -qF -- "${what#*:}" "$log"; then fail "a ${what%%:*} in the $format log"; fi
  done
done
python3 - "$work/json.log" <<'EOF' || fail "the JSON log"
import json, sys
requests = 0
for number, line in enumerate(open(sys.argv[1]), 1):
    entry = json.loads(line)
    assert {"time", "level", "target", "message"} <= entry.keys(), f"line {number}: {line}"
    if entry["target"] == "service::observe":
        assert entry["request_id"], f"line {number} has no request_id: {line}"
        requests += 1
assert requests > 0, "no request was logged"
print(f"JSON log: every line an object; {requests} requests, each with its request_id")
EOF
exit $failed
