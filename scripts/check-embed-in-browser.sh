#!/usr/bin/env bash
# The embeddable form in headless Chromium: serves Beacon on a scratch database and runs
# scripts/browser/check-embed.mjs, which embeds <beacon-lead-form> in a page on another origin
# (listed in BEACON_CORS_ORIGINS), fills it in with the keyboard only, and checks the checklist,
# inline errors and focus, exactly one lead per enquiry (through the staff API), the retry with
# the same Idempotency-Key, the crisis resources, and that no request leaves the machine. Needs a
# built target/debug/beacon; installs Debian's chromium and playwright-core when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/browser/lib.sh

ensure_browser_tools
page_port=$(free_port)
export BEACON_CORS_ORIGINS="http://127.0.0.1:$page_port"
export BEACON_CONSENT_TEXT="I agree that the clinic may call and text me about treatment."
export BEACON_CONSENT_VERSION="embed-check-1"
# A person takes longer than this; the script types faster than the default 3 s allows.
export BEACON_MIN_FILL_SECONDS=1
start_beacon
key=$(DATABASE_URL="$BEACON_DATABASE_URL" target/debug/beacon keys create \
  --name "embed check" --scopes leads:read 2>/dev/null | tail -n 1)
BEACON_URL="$BEACON_URL" PAGE_PORT="$page_port" BEACON_KEY="$key" \
  node "$browser_tools/check-embed.mjs"
