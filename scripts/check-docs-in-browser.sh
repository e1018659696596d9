#!/usr/bin/env bash
# Serves Beacon on a scratch database and runs scripts/check-docs-offline.mjs: Swagger UI must
# render, "Try it out" must work, and no request may leave Beacon. Installs Debian's chromium and
# playwright-core (into target/docs-check) when missing; never downloads a browser of its own.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  (apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1) ||
    (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null)
fi
tools=target/docs-check
mkdir -p "$tools"
if [ ! -d "$tools/node_modules/playwright-core" ]; then
  npm install --prefix "$tools" --no-audit --no-fund --silent playwright-core@1 >/dev/null
fi
cp scripts/check-docs-offline.mjs "$tools/"

server=${DOCS_CHECK_SERVER:-postgres://postgres@127.0.0.1:5432}
database="beacon_docs_check_$$"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
psql "$server/postgres" -qc "CREATE DATABASE $database" >/dev/null
DATABASE_URL="$server/$database" BEACON_ADDR="127.0.0.1:$port" RUST_LOG=warn \
  target/debug/beacon serve &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  psql "$server/postgres" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null
}
trap cleanup EXIT

for _ in $(seq 1 50); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
BEACON_URL="http://127.0.0.1:$port" node "$tools/check-docs-offline.mjs"
