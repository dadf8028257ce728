#!/usr/bin/env bash
# Measures the issuer under sign-in load, with the default argon2id cost (m=19456 KiB, t=2, p=1):
#   1. sign-in latency with one client, then with as many clients as cores;
#   2. GET /health p99 alone, then while 64 sign-ins run at once (the workers must stay free);
#   3. peak RSS while 500 sign-ins run at once (bounded by MAX_CONCURRENT_HASHES x memory cost).
# Needs wrk. Usage: bench/issuer.sh [seconds per run, default 15]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }

cargo build --release --locked -p issuer >/dev/null
work=$(mktemp -d)
port=18101
BETTER_AUTH_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
DATABASE_URL="sqlite://$work/issuer.db" PORT=$port RUST_LOG=warn \
RATE_LIMIT_PER_MINUTE=100000000 RATE_LIMIT_BURST=100000000 \
  target/release/issuer &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
base="http://127.0.0.1:$port"
until curl -sf "$base/ready" >/dev/null; do sleep 0.1; done
curl -sf "$base/signup" -H 'content-type: application/json' \
  -d '{"email": "bench@example.com", "password": "correct horse battery", "name": "Bench"}' >/dev/null

cores=$(nproc)
echo "## sign-in, 1 client"; wrk -t1 -c1 -d"${seconds}s" --latency -s bench/signin.lua "$base/signin" | grep -E "50%|99%|Requests/sec|Non-2xx|Socket"
echo "## sign-in, $cores clients"; wrk -t1 -c"$cores" -d"${seconds}s" --latency -s bench/signin.lua "$base/signin" | grep -E "50%|99%|Requests/sec|Non-2xx|Socket"
echo "## /health alone"; wrk -t1 -c1 -d"${seconds}s" --latency "$base/health" | grep -E "50%|99%|Requests/sec"
echo "## /health while 64 sign-ins run"
wrk -t1 -c64 -d"$((seconds + 4))s" --timeout 10s -s bench/signin.lua "$base/signin" > "$work/flood64.txt" &
flood=$!
sleep 2
wrk -t1 -c1 -d"${seconds}s" --latency "$base/health" | grep -E "50%|99%|Requests/sec"
wait $flood; grep -E "Requests/sec|Non-2xx|Socket" "$work/flood64.txt"
echo "## 500 concurrent sign-ins: RSS"
rss_before=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
wrk -t2 -c500 -d"${seconds}s" --timeout 10s -s bench/signin.lua "$base/signin" | grep -E "Requests/sec|Non-2xx|Socket"
echo "RSS before: ${rss_before} KiB; peak (VmHWM): $(awk '/VmHWM/ {print $2}' /proc/$pid/status) KiB; after: $(awk '/VmRSS/ {print $2}' /proc/$pid/status) KiB"
curl -sf "$base/health" >/dev/null && echo "the issuer is still up"
