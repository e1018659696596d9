#!/usr/bin/env bash
# Soak run: a steady mixed load (below saturation) against a real `beacon serve` on a scratch
# database, for SOAK_MINUTES (default 10; an hour runs unattended). Every 10 s it samples the
# server's RSS and open file descriptors, the pool (from /metrics on BEACON_METRICS_ADDR) and the
# client-side p50/p99; at the end it reconciles every acknowledged lead against the database
# (each exactly once) and writes docs/SOAK.md with a plot (docs/soak.svg, by gnuplot).
# Not run in CI.
#
#   scripts/soak.sh                       # 10 minutes, release build
#   SOAK_MINUTES=60 scripts/soak.sh
#
# Environment: SOAK_MINUTES (default 10), SOAK_RATE (requests per second, default 20),
# SOAK_PROFILE (release or debug, default release), SOAK_ADMIN_URL (default
# postgres://postgres@127.0.0.1:5432/postgres: where the scratch database is created and dropped),
# SOAK_REPORT (default docs/SOAK.md; the plot goes next to it as soak.svg).
# Needs python3 and gnuplot (apt-get install gnuplot-nox).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

MINUTES=${SOAK_MINUTES:-10}
RATE=${SOAK_RATE:-20}
PROFILE=${SOAK_PROFILE:-release}
ADMIN_URL=${SOAK_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
REPORT=${SOAK_REPORT:-docs/SOAK.md}

case "$PROFILE" in
  release) cargo build --release --locked --bin beacon >&2; BEACON=target/release/beacon ;;
  debug) cargo build --locked --bin beacon >&2; BEACON=target/debug/beacon ;;
  *) echo "SOAK_PROFILE must be release or debug" >&2; exit 2 ;;
esac
command -v gnuplot >/dev/null || { echo "gnuplot is needed for the plot" >&2; exit 2; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
DB="beacon_soak_$(date +%s)_$$"
export DATABASE_URL="${ADMIN_URL%/*}/$DB"
PORT=$(free_port)
METRICS_PORT=$(free_port)
WORK=$(mktemp -d)
SERVER_PID=

cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  psql "$ADMIN_URL" -qAt -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

psql "$ADMIN_URL" -qAt -c "CREATE DATABASE $DB" >/dev/null
"$BEACON" migrate >/dev/null 2>&1
"$BEACON" seed --demo >/dev/null 2>&1
STAFF_KEY=$("$BEACON" keys create --name soak-staff --scopes leads:read,leads:write 2>/dev/null | tail -n1)

# Public rate limits off: every enquiry comes from loopback. Delivery and scans stay on.
BEACON_ADDR="127.0.0.1:$PORT" BEACON_METRICS_ADDR="127.0.0.1:$METRICS_PORT" \
  BEACON_LEAD_RATE_PER_IP=0 BEACON_LEAD_RATE_PER_PHONE=0 RUST_LOG=warn \
  "$BEACON" serve >"$WORK/beacon.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done

python3 scripts/soak/driver.py \
  --base "http://127.0.0.1:$PORT" \
  --metrics "http://127.0.0.1:$METRICS_PORT/metrics" \
  --pid "$SERVER_PID" \
  --staff-key "$STAFF_KEY" \
  --database-url "$DATABASE_URL" \
  --minutes "$MINUTES" \
  --rate "$RATE" \
  --profile "$PROFILE" \
  --work "$WORK" \
  --report "$REPORT"
