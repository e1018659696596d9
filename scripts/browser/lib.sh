# Shared by the headless-browser checks (sourced, not run): Debian's chromium and playwright-core,
# installed once into target/browser-check (never a browser playwright downloads itself), and a
# Beacon on a free port over a scratch database that is dropped on exit.
#
# After `start_beacon`: BEACON_URL, BEACON_DATABASE_URL. Settings for the server are whatever
# BEACON_* variables the caller exported.

browser_tools=target/browser-check
browser_server=${BROWSER_CHECK_SERVER:-${DOCS_CHECK_SERVER:-postgres://postgres@127.0.0.1:5432}}
browser_database="beacon_browser_check_$$"
browser_beacon_pid=

ensure_browser_tools() {
  if ! command -v chromium >/dev/null 2>&1; then
    (apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1) ||
      (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null)
  fi
  mkdir -p "$browser_tools"
  if [ ! -d "$browser_tools/node_modules/playwright-core" ]; then
    npm install --prefix "$browser_tools" --no-audit --no-fund --silent playwright-core@1 >/dev/null
  fi
  # Node finds playwright-core from the script's own directory.
  cp scripts/browser/*.mjs "$browser_tools/"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_beacon() {
  if [ -n "$browser_beacon_pid" ]; then
    kill "$browser_beacon_pid" 2>/dev/null || true
    wait "$browser_beacon_pid" 2>/dev/null || true
  fi
  psql "$browser_server/postgres" -qc "DROP DATABASE IF EXISTS $browser_database WITH (FORCE)" >/dev/null
}

start_beacon() {
  local port
  port=$(free_port)
  BEACON_DATABASE_URL="$browser_server/$browser_database"
  psql "$browser_server/postgres" -qc "CREATE DATABASE $browser_database" >/dev/null
  trap stop_beacon EXIT
  DATABASE_URL="$BEACON_DATABASE_URL" BEACON_ADDR="127.0.0.1:$port" RUST_LOG=${RUST_LOG:-warn} \
    target/debug/beacon serve &
  browser_beacon_pid=$!
  BEACON_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 50); do
    curl -fs "$BEACON_URL/readyz" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "Beacon did not become ready at $BEACON_URL" >&2
  return 1
}
