#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for a bounded time each; exits non-zero at the first crash
# (libFuzzer leaves the input under fuzz/artifacts/<target>/; turn it into a regression test).
# cargo-fuzz needs nightly flags: RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them.
# Usage: scripts/fuzz.sh [seconds per target, default 30]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-30}
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
# Release with debug assertions (overflow checks) and AddressSanitizer, cargo-fuzz's default.
cargo fuzz build -O -a
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for target in $(cargo fuzz list); do
  echo "## $target for ${seconds}s"
  if ! cargo fuzz run -O -a "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 \
    -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "$target crashed: the input is under fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log"
done
