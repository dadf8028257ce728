#!/usr/bin/env bash
# Installs the Better Auth fixture (exact versions from package-lock.json) and runs the test that
# has tasks-api accept its tokens. Needs Node.js 20+ and npm; CI can call it after the suites.
set -euo pipefail
cd "$(dirname "$0")"
command -v node >/dev/null && command -v npm >/dev/null || {
  echo "tests/better-auth: Node.js and npm are required" >&2
  exit 1
}
npm ci --no-audit --no-fund
cd ../..
# The whole workspace, as `cargo test` builds it: no rebuild of the dependencies for one package.
cargo test --locked --workspace --test api -- --ignored --nocapture better_auth
