#!/usr/bin/env bash
# The whole attack suite at length, bounded to about 30 minutes on two cores from cold (the release
# and fuzz builds are most of it; about 10 minutes warm): schemathesis for two
# minutes per service, every fuzz target for 30 s, the database-fault tests against a private
# PostgreSQL cluster, and the floods. Installs what it needs on a clean machine (a Python venv
# for schemathesis, cargo-fuzz, wrk). The longer runs are the same scripts with more seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

step "tools"
if ! command -v wrk >/dev/null || ! command -v curl >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk curl >/dev/null
fi

step "schemathesis against both OpenAPI documents"
scripts/schemathesis.sh "${SCHEMATHESIS_SECONDS:-120}"

step "fuzz targets"
scripts/fuzz.sh "${FUZZ_SECONDS:-30}"

step "database faults: a stopped PostgreSQL, a SIGKILL mid-burst"
cargo test --locked -p issuer -p tasks-api --test faults -- --nocapture

step "floods"
scripts/flood.sh "${FLOOD_SECONDS:-15}"

step "attack suite green"
