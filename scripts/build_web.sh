#!/usr/bin/env bash
# Builds the web page into web/dist: installs the locked npm packages when they are missing or
# older than package-lock.json, type-checks and bundles with Vite.
#   scripts/build_web.sh          build (fails when npm or a recent enough Node is missing)
#   scripts/build_web.sh --auto   the same, but only a one-line note when npm is missing
set -euo pipefail
cd "$(dirname "$0")/../web"

auto=0
[ "${1:-}" = --auto ] && auto=1

skip() {
  if [ $auto = 1 ]; then
    echo "web: $1; skipping the web page (sam2 serve still serves the API)"
    exit 0
  fi
  echo "web: $1" >&2
  exit 1
}

command -v npm >/dev/null 2>&1 || skip "npm not found (SAM2_SETUP_WEB=1 scripts/setup.sh installs it)"
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] || skip "Node.js 20 or newer is needed (found $(node --version 2>/dev/null || echo none))"

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
