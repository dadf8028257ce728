#!/usr/bin/env bash
# The dependency checks of deny.toml: RustSec advisories, licences, sources, wildcard versions.
# Installs cargo-deny when missing and fetches the advisory database. Without internet, the
# database can be seeded once from a copy of it (a folder of the RustSec advisory-db; it need not
# be a git repository), and the checks then run against that copy:
#   scripts/deny.sh --seed <folder>
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-deny >/dev/null || cargo install --locked cargo-deny

# Where cargo-deny keeps the default RustSec database (deny.toml names no other).
db="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs/advisory-db-3157b0e258782691"

if [ "${1:-}" = "--seed" ]; then
  source=${2:?usage: scripts/deny.sh --seed <advisory-db folder>}
  rm -rf "$db" && mkdir -p "$(dirname "$db")" && cp -r "$source" "$db"
  git -C "$db" init -q
  git -C "$db" add -A
  git -C "$db" -c user.name=seed -c user.email=seed@localhost commit -qm "seeded copy"
  echo "advisory database seeded: $(find "$db" -name 'RUSTSEC-*.md' | wc -l) advisories"
  exit 0
fi

# The checks read every dependency's manifest, for every target, offline: fetched here first
# (from the crate registry, which is reachable where GitHub may not be).
cargo fetch --locked --quiet
if cargo deny --locked fetch db; then
  cargo deny --locked --offline check
elif [ -d "$db" ]; then
  newest=$(find "$db" -name 'RUSTSEC-*.md' -printf '%f\n' | sort | tail -1)
  echo "no fetch: checking against the local advisory database (newest: ${newest%.md})" >&2
  cargo deny --locked --offline check
else
  echo "no advisory database: the fetch failed and none was seeded (scripts/deny.sh --seed)" >&2
  exit 1
fi
