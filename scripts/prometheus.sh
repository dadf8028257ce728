# Shared by scripts/observability.sh and deploy/compose-test.sh (sourced, not run): a Prometheus
# server of Debian's package on this machine, scraping given targets every second and asked over
# its HTTP API, and the checks every scrape's text must pass.

# prometheus_start FOLDER TARGET…: starts the server with its data in FOLDER, scraping each
# host:port as job `services`, and waits until it is ready; sets $prometheus_pid. Installs
# Debian's prometheus when missing.
prometheus_start() {
  local folder=$1 targets
  shift
  if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
    apt-get update -qq && apt-get install -y -qq prometheus >/dev/null
  fi
  mkdir -p "$folder"
  prometheus_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  targets=$(printf '"%s", ' "$@")
  cat >"$folder/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: services
    static_configs:
      - targets: [${targets%, }]
EOF
  prometheus --config.file="$folder/prometheus.yml" --storage.tsdb.path="$folder/data" \
    --web.listen-address="127.0.0.1:$prometheus_port" >"$folder/prometheus.log" 2>&1 &
  prometheus_pid=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$prometheus_port/-/ready" >/dev/null && return 0
    sleep 0.2
  done
  cat "$folder/prometheus.log" >&2
  echo "Prometheus did not start" >&2
  return 1
}

# prometheus_query PROMQL: the value Prometheus answers now ("none" when there is no sample).
prometheus_query() {
  curl -sfG "http://127.0.0.1:$prometheus_port/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")'
}

# prometheus_scraped: waits until every target has been scraped, and answered, since the call.
prometheus_scraped() {
  local since
  since=$(date -u +%s)
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$prometheus_port/api/v1/targets" | python3 -c '
import json, sys
from datetime import datetime, timezone
since, targets = int(sys.argv[1]), json.load(sys.stdin)["data"]["activeTargets"]
at = lambda t: datetime.strptime(t["lastScrape"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
sys.exit(0 if targets and all(t["health"] == "up" and at(t).timestamp() > since for t in targets) else 1)
' "$since" && return 0
    sleep 0.2
  done
  echo "Prometheus has not scraped every target" >&2
  return 1
}

# prometheus_moved BEFORE… -- AFTER…: fails unless each value after is greater than before.
prometheus_moved() {
  python3 - "$@" <<'EOF'
import sys
split = sys.argv.index("--")
value = lambda v: 0.0 if v == "none" else float(v)
for b, a in zip(sys.argv[1:split], sys.argv[split + 1:]):
    if not value(a) > value(b):
        sys.exit(f"did not move: {b} -> {a}")
EOF
}

# check_scrape FILE: promtool parses the scraped text, and no label value is a user id, an email
# or a token. promtool reads the older Prometheus format, in which a counter's HELP names its
# `_total` sample; OpenMetrics (what is served, and what Prometheus asks for) names the family.
# Those complaints are the only ones allowed.
check_scrape() {
  local status=0
  promtool check metrics <"$1" >"$1.promtool" 2>&1 || status=$?
  python3 - "$status" "$1.promtool" "$1" <<'EOF'
import os, re, sys
status, complaints, text = int(sys.argv[1]), open(sys.argv[2]).read(), open(sys.argv[3]).read()
helped = set(re.findall(r"^# HELP (\S+) ", text, re.M))
others = [line for line in complaints.splitlines()
          if not (m := re.fullmatch(r"(\S+)_total no help text", line)) or m[1] not in helped]
if status not in (0, 3) or others:
    sys.exit(f"promtool check metrics, exit {status}: {others or complaints}")
values = re.findall(r'="((?:[^"\\]|\\.)*)"', "\n".join(l for l in text.splitlines() if not l.startswith("#")))
uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
bad = sorted({v for v in values if "@" in v or "eyJ" in v or uuid.search(v) or len(v) > 100})
if bad:
    sys.exit(f"label values that are a user's: {bad}")
print(f"{os.path.basename(sys.argv[3])}: promtool parses it; {len(set(values))} distinct label values, "
      "none an id, an email or a token")
EOF
}
