#!/usr/bin/env bash
# Serves Beacon on a scratch database and runs scripts/browser/check-docs-offline.mjs: Swagger UI
# must render, "Try it out" must work, and no request may leave Beacon. Needs a built
# target/debug/beacon; installs Debian's chromium and playwright-core when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/browser/lib.sh

ensure_browser_tools
start_beacon
BEACON_URL="$BEACON_URL" node "$browser_tools/check-docs-offline.mjs"
