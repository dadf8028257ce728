#!/usr/bin/env bash
# The dependency checks of deny.toml: RustSec advisories, licences, sources, wildcard versions.
# Installs its pinned cargo-deny when missing, then checks against the freshest advisory database
# it can have, and says which it used:
#   1. the RustSec database, fetched now, where the network reaches it;
#   2. otherwise the copy a run here fetched or seeded before;
#   3. otherwise a copy seeded now from the snapshot beside the repository
#      (../shared/advisory-db, or the folder ADVISORY_DB_SNAPSHOT names: a folder of the RustSec
#      advisory-db, which need not be a git repository).
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned: the folder cargo-deny keeps the database in is named by a hash of its URL, which this
# version computes as below.
version=0.20.2
if ! cargo deny --version 2>/dev/null | grep -qx "cargo-deny $version"; then
  # Its own release profile asks for fat LTO in one codegen unit, which is most of the install's
  # time on a small machine; a checker run once a CI run has no use for the last few percent.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install --locked --quiet "cargo-deny@$version"
fi

# Where cargo-deny keeps the default RustSec database (deny.toml names no other).
db="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs/advisory-db-3157b0e258782691"
snapshot=${ADVISORY_DB_SNAPSHOT:-../shared/advisory-db}

newest() { find "$db" -name 'RUSTSEC-*.md' -printf '%f\n' | sort | tail -1 | sed 's/\.md$//'; }

# The checks read every dependency's manifest, for every target, offline: fetched here first
# (from the crate registry, which is reachable where GitHub may not be).
cargo fetch --locked --quiet
if cargo deny --locked fetch db 2>/dev/null; then
  echo "advisory database: fetched now (newest: $(newest))"
elif [ -d "$db/.git" ]; then
  echo "advisory database: no fetch; the copy already here (newest: $(newest))"
elif [ -d "$snapshot/crates" ]; then
  # cargo-deny opens the database as a git repository: the copy is made one.
  rm -rf "$db" && mkdir -p "$(dirname "$db")" && cp -r "$snapshot" "$db" && chmod -R u+w "$db"
  git -C "$db" init -q
  git -C "$db" add -A
  git -C "$db" -c user.name=seed -c user.email=seed@localhost commit -qm "seeded from a snapshot"
  echo "advisory database: no fetch; seeded now from $snapshot (newest: $(newest))"
else
  echo "no advisory database: the fetch failed, none is here, and $snapshot holds no snapshot" \
    "(set ADVISORY_DB_SNAPSHOT to a copy of the RustSec advisory-db)" >&2
  exit 1
fi
cargo deny --locked --offline check
