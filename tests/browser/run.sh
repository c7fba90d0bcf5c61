#!/usr/bin/env bash
# run.sh ESIMGUARD_CLI SCREENSHOT_DIR: the portal's browser tests (ctest
# browser_portal). Installs playwright-core from package-lock.json when
# node_modules is missing, then runs every *.test.mjs with node's test runner
# against Debian's /usr/bin/chromium.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cli=$(realpath "$1")
export ESIMGUARD_BIN_DIR="$(dirname "$(dirname "$cli")")"
mkdir -p "$2"
export SCREENSHOT_DIR=$(realpath "$2")
mkdir -p "$SCREENSHOT_DIR"
if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi
cd "$here"
# One file: its tests run in order (later ones use what earlier ones made).
exec node --test ./*.test.mjs
