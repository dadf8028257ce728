#!/usr/bin/env bash
# What an operator sees, checked across a run of the end-to-end suite: the standalone process
# (both services, one registry) runs the suite twice, once per log format, at RUST_LOG=trace.
#   * a real Prometheus server scrapes /metrics, and the sign-in counter and the request
#     histogram it stored have moved once the suite has run (the query and its answer are printed);
#   * promtool parses the scraped text, and no label value is a user id, an email or a token;
#   * no log line, in either format, holds a password, a token, a password hash or the secret,
#     and in the JSON format every line is a JSON object, each request's with its request_id.
# Installs Debian's prometheus (for promtool and the server) when missing. Prints the scraped
# metrics to target/observability/metrics.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  apt-get update -qq && apt-get install -y -qq prometheus >/dev/null
fi
cargo build --locked -q -p standalone -p e2e

out=target/observability
work=$(mktemp -d)
pids=()
trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"' EXIT
mkdir -p "$out"
secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
# The e2e suite's password (e2e/src/main.rs), and the start of every JWT's header.
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

# query PROMQL: its value, as Prometheus answers it now ("none" when there is no sample).
query() {
  curl -sfG "http://127.0.0.1:$prometheus_port/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")'
}

# scraped_after SECONDS: waits until Prometheus has scraped the target after that time.
scraped_after() {
  for _ in $(seq 1 100); do
    local last
    last=$(curl -sf "http://127.0.0.1:$prometheus_port/api/v1/targets" |
      python3 -c 'import json, sys
from datetime import datetime, timezone
targets = json.load(sys.stdin)["data"]["activeTargets"]
up = [t for t in targets if t["health"] == "up"]
at = lambda t: datetime.strptime(t["lastScrape"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
print(int(at(up[0]).timestamp()) if up else 0)')
    ((last > $1)) && return 0
    sleep 0.2
  done
  echo "Prometheus did not scrape the process" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
echo "## JSON logs, with Prometheus scraping"
start json
prometheus_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: standalone
    static_configs:
      - targets: ["${base#http://}"]
EOF
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prometheus_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$prometheus_port/-/ready" >/dev/null && break; sleep 0.2; done
scraped_after "$(date -u +%s)"
signins='sum(issuer_signins_total{outcome="success"})'
requests='sum(http_request_duration_seconds_count)'
before=("$(query "$signins")" "$(query "$requests")")
target/debug/e2e "$base" >"$work/e2e-json.txt" || { cat "$work/e2e-json.txt"; fail "the e2e suite"; }
tail -n1 "$work/e2e-json.txt"
scraped_after "$(date -u +%s)"
after=("$(query "$signins")" "$(query "$requests")")
echo "query: $signins  before: ${before[0]}  after: ${after[0]}"
echo "query: $requests  before: ${before[1]}  after: ${after[1]}"
python3 - "${before[@]}" "${after[@]}" <<'EOF' || fail "a series did not move"
import sys
value = lambda v: 0.0 if v == "none" else float(v)
before, after = sys.argv[1:3], sys.argv[3:5]
for b, a in zip(before, after):
    assert value(a) > value(b), f"{b} -> {a}"
EOF

curl -sf "$base/metrics" >"$out/metrics.txt"
# promtool reads the Prometheus text format, where a counter's HELP names its `_total` sample;
# OpenMetrics (what is served, and what Prometheus asks for) names the family. Those complaints
# are the only ones allowed; a parse error or any other complaint fails.
set +e
promtool check metrics <"$out/metrics.txt" >"$work/promtool.txt" 2>&1
status=$?
set -e
python3 - "$status" "$work/promtool.txt" "$out/metrics.txt" <<'EOF' || fail "promtool check metrics"
import re, sys
status, complaints, text = int(sys.argv[1]), open(sys.argv[2]).read(), open(sys.argv[3]).read()
helped = set(re.findall(r"^# HELP (\S+) ", text, re.M))
others = [line for line in complaints.splitlines()
          if not (m := re.fullmatch(r"(\S+)_total no help text", line)) or m[1] not in helped]
if status not in (0, 3) or others:
    sys.exit(f"promtool exit {status}: {others or complaints}")
print(f"promtool check metrics: parsed; {len(complaints.splitlines())} OpenMetrics counter names")
EOF
python3 - "$out/metrics.txt" <<'EOF' || fail "a label holds a user's data"
import re, sys
values = re.findall(r'="((?:[^"\\]|\\.)*)"', "\n".join(
    line for line in open(sys.argv[1]) if not line.startswith("#")))
uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
bad = sorted({v for v in values if "@" in v or "eyJ" in v or uuid.search(v) or len(v) > 100})
if bad:
    sys.exit(f"label values that are a user's: {bad}")
print(f"labels: {len(set(values))} distinct values, none an id, an email or a token")
EOF
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
