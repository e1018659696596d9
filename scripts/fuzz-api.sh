#!/usr/bin/env bash
# Fuzzes the running API from its own OpenAPI document with schemathesis: every operation,
# positive and negative data (examples, coverage and fuzzing phases), a fixed seed, about three
# minutes. Any 5xx, undocumented status, wrong content type or response off its schema fails.
#
# Runs the debug `beacon` binary (built here if missing) on a scratch database with demo
# content and an all-scopes key, with the public rate limits off (BEACON_*_RATE_PER_* = 0):
# otherwise the fuzzer spends its budget on 429s. Stops the server and drops the database after.
#
# Environment: FUZZ_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres) is where the
# scratch database is created; FUZZ_MAX_TIME (default 160) is the budget in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

ADMIN_URL=${FUZZ_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
MAX_TIME=${FUZZ_MAX_TIME:-160}
SEED=20261201
VENV=target/fuzz-venv
REPORT_DIR=target/fuzz-report

if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r scripts/fuzz/requirements.txt

cargo build --quiet --locked --bin beacon
BEACON=target/debug/beacon

DB="beacon_fuzz_$(date +%s)_$$"
DATABASE_URL="${ADMIN_URL%/*}/$DB"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SERVER_PID=
mkdir -p "$REPORT_DIR"
LOG="$REPORT_DIR/beacon.log"

cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  psql "$ADMIN_URL" -qAt -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null || true
}
trap cleanup EXIT

psql "$ADMIN_URL" -qAt -c "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL
export BEACON_ADDR="127.0.0.1:$PORT"
export BEACON_LEAD_RATE_PER_IP=0 BEACON_LEAD_RATE_PER_PHONE=0 BEACON_OPT_OUT_RATE_PER_IP=0
export RUST_LOG=${RUST_LOG:-warn}

"$BEACON" migrate >/dev/null 2>&1
"$BEACON" seed --demo >/dev/null 2>&1
KEY=$("$BEACON" keys create --name fuzz --scopes admin,content:write,leads:read,leads:write 2>/dev/null | tail -n1)

"$BEACON" serve >"$LOG" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done

fuzz() {
  "$VENV/bin/schemathesis" run "http://127.0.0.1:$PORT/openapi.json" \
    --header "Authorization: Bearer $KEY" \
    --workers 1 \
    --seed "$SEED" \
    --mode all \
    --phases examples,coverage,fuzzing \
    --max-examples 60 \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --report junit --report-dir "$REPORT_DIR" \
    "$@"
}

# Schemathesis reuses ids from earlier responses, so `DELETE /v1/keys/{id}` revokes the key the run
# uses: every operation first, that one alone at the end.
fuzz --max-time "$MAX_TIME" --exclude-path '/v1/keys/{id}'
fuzz --max-time 20 --include-path '/v1/keys/{id}'
