#!/usr/bin/env bash
# Floods, measured and asserted (exit non-zero when a threshold is missed):
#   1. the issuer under 500 concurrent sign-ins at the default argon2id cost: every answer is
#      200, 429 or 503 (never a 500, never a timeout), peak memory stays under
#      baseline + MAX_CONCURRENT_HASHES x ARGON2_MEMORY_KIB + 64 MiB, and GET /health keeps
#      answering within 1 s;
#   2. tasks-api under sustained authenticated reads and writes, run after run: zero errors, and
#      resident memory after the last run at most 10% + 8 MiB above that after the first. The
#      writes update one task rather than add new ones, so the data (and with it SQLite's page
#      cache) stays the same size and any growth is the service's own.
# Needs wrk and curl. Usage: scripts/flood.sh [seconds per run, default 15]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
seconds=${1:-15}
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }
cargo build --release --locked -p issuer -p tasks-api

work=$(mktemp -d)
trap 'stop_services; rm -rf "$work"' EXIT
secret=$(random_secret)
failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }

hashes=2
memory_kib=19456
echo "## issuer: 500 concurrent sign-ins for ${seconds}s (MAX_CONCURRENT_HASHES=$hashes, ARGON2_MEMORY_KIB=$memory_kib)"
RUST_LOG=info start_service issuer "$work/issuer.log" BETTER_AUTH_SECRET="$secret" \
  DATABASE_URL="sqlite://$work/issuer.db" MAX_CONCURRENT_HASHES=$hashes ARGON2_MEMORY_KIB=$memory_kib \
  RATE_LIMIT_PER_MINUTE=100000000 RATE_LIMIT_BURST=100000000 SIGNIN_FREE_FAILURES=100000000
issuer_pid=$pid
issuer="http://127.0.0.1:$port"
read -r _ _ < <(signup "$issuer" "bench@example.com")
# Warm: the hashing slots' memory is allocated on first use.
warm=()
for _ in 1 2 3 4; do
  curl -sf "$issuer/signin" -H 'content-type: application/json' \
    -d '{"email": "bench@example.com", "password": "correct horse battery"}' >/dev/null &
  warm+=($!)
done
wait "${warm[@]}"
baseline=$(rss_kib "$issuer_pid")
WRK_METHOD=POST WRK_BODY='{"email": "bench@example.com", "password": "correct horse battery"}' \
  wrk -t2 -c500 -d"${seconds}s" --timeout 10s -s scripts/status_counts.lua "$issuer/signin" \
  > "$work/signin.txt" 2>&1 &
flood=$!
sleep 1
slowest=0
while kill -0 "$flood" 2>/dev/null; do
  took=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 "$issuer/health")
  [ "${took%% *}" = 200 ] || fail "/health answered ${took%% *} during the flood"
  slowest=$(awk -v a="$slowest" -v b="${took#* }" 'BEGIN { print (b > a) ? b : a }')
  sleep 0.2
done
wait "$flood" || fail "wrk failed"
cat "$work/signin.txt"
peak=$(peak_rss_kib "$issuer_pid")
bound=$((baseline + hashes * memory_kib + 65536))
echo "RSS baseline ${baseline} KiB, peak ${peak} KiB, bound ${bound} KiB; slowest /health ${slowest}s"
[ "$peak" -le "$bound" ] || fail "peak RSS ${peak} KiB over the bound ${bound} KiB"
awk -v s="$slowest" 'BEGIN { exit !(s < 1.0) }' || fail "/health took ${slowest}s during the flood"
grep -q 'Socket errors' "$work/signin.txt" && fail "socket errors (timeouts or resets) during the flood"
answered=$(awk -F': ' '/^status (200|429|503):/ {s += $2} END {print s + 0}' "$work/signin.txt")
others=$(grep -E '^status ' "$work/signin.txt" | grep -vE '^status (200|429|503):' || true)
[ -z "$others" ] || fail "unexpected statuses: $others"
grep -qE '^status 200: ' "$work/signin.txt" || fail "no sign-in succeeded during the flood"
grep -q ' 500 ' "$work/issuer.log" && fail "the issuer logged a 500"
kill -0 "$issuer_pid" || fail "the issuer died"
curl -sf "$issuer/health" >/dev/null || fail "the issuer does not answer after the flood"
echo "answered: $answered sign-ins with 200, 429 or 503"

echo "## tasks-api: 3 runs of ${seconds}s, 32 connections, reads and writes"
start_service tasks-api "$work/tasks.log" BETTER_AUTH_SECRET="$secret" DATABASE_URL="sqlite://$work/tasks.db"
tasks_pid=$pid
read -r token user < <(signup "$issuer" "tasks@example.com")
list="http://127.0.0.1:$port/api/$user/tasks"
for i in $(seq 1 20); do
  curl -sf "$list" -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d "{\"title\": \"task $i\"}" >/dev/null
done
rss=()
for run in 1 2 3; do
  wrk -t2 -c32 -d"${seconds}s" --timeout 5s -H "Authorization: Bearer $token" "$list?limit=20" > "$work/read$run.txt"
  WRK_METHOD=PUT WRK_BODY="{\"title\": \"flood $run\", \"completed\": true}" \
    wrk -t1 -c4 -d"$((seconds / 3 + 1))s" --timeout 5s -H "Authorization: Bearer $token" \
    -s scripts/status_counts.lua "$list/1" > "$work/write$run.txt"
  rss+=("$(rss_kib "$tasks_pid")")
  for kind in read write; do
    out="$work/$kind$run.txt"
    echo "run $run $kind: $(awk '/Requests\/sec/ {print $2}' "$out") req/s; $(grep -E 'Non-2xx|Socket errors' "$out" | tr '\n' ' ')"
    grep -qE 'Non-2xx|Socket errors' "$out" && fail "errors in run $run ($kind)"
  done
done
echo "tasks-api RSS after each run: ${rss[*]} KiB"
[ "${rss[2]}" -le $((rss[0] * 110 / 100 + 8192)) ] || fail "RSS grew from ${rss[0]} to ${rss[2]} KiB"
kill -0 "$tasks_pid" || fail "tasks-api died"

[ "$failed" = 0 ] && echo "flood: all thresholds held"
exit $failed
