# Shared by the attack scripts and scripts/observability.sh (sourced, not run): start the release
# binaries on free ports and stop them on exit, sign up a user, read a process's memory.

# A fresh random secret of 64 hex characters.
random_secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

pids=()
stop_services() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }

# start_service NAME LOG [VAR=VALUE...]: starts target/release/NAME on a free port with the given
# environment, waits until it listens, and sets $port and $pid.
start_service() {
  local name=$1 log=$2
  shift 2
  env "$@" PORT=0 RUST_LOG="${RUST_LOG:-warn,${name//-/_}=info}" "target/release/$name" 2>"$log" &
  pid=$!
  pids+=("$pid")
  port=
  for _ in $(seq 1 300); do
    port=$(sed -nE 's/.*listening on port ([0-9]+).*/\1/p' "$log" | head -n1)
    [ -n "$port" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$name did not start:" >&2
  cat "$log" >&2
  return 1
}

# signup BASE_URL EMAIL: signs up with a fixed good password and prints "TOKEN USER_ID".
signup() {
  curl -sf "$1/signup" -H 'content-type: application/json' \
    -d "{\"email\": \"$2\", \"password\": \"correct horse battery\", \"name\": \"Attack\"}" |
    python3 -c 'import json, sys; a = json.load(sys.stdin); print(a["token"], a["user"]["id"])'
}

# rss_kib PID, peak_rss_kib PID: resident memory now, and its high-water mark.
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
peak_rss_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
