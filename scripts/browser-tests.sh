#!/usr/bin/env bash
# The web client's browser suite (e2e/browser): Chromium driven by playwright-core, axe-core in
# the page. Without BASE_URL it builds and starts the standalone binary itself; with it, it
# tests that deployment (deploy/compose-test.sh passes the proxy's).
#
#   scripts/browser-tests.sh                                 # the standalone process
#   BASE_URL=http://127.0.0.1:8080 scripts/browser-tests.sh  # a running deployment
#
# Installs Debian's chromium and Node.js when missing (Playwright's own browser download is not
# used). Screenshots land in target/screenshots.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
npm ci --prefix e2e/browser --no-audit --no-fund --silent
if [[ -z ${BASE_URL:-} ]]; then
  cargo build --locked -p standalone
fi
started=$(date +%s)
npm test --prefix e2e/browser
echo "browser suite: $(($(date +%s) - started)) s"
