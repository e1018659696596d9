#!/usr/bin/env bash
# Measures the public read paths with wrk on loopback: a release build over the demo content in
# a scratch database, once with the response cache on and once with BEACON_CACHE=off.
# Bounded: each path runs for BENCH_SECONDS (default 8).
#   scripts/bench-reads.sh            (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."

server=${BENCH_SERVER:-postgres://postgres@127.0.0.1:5432}
seconds=${BENCH_SECONDS:-8}
database="beacon_bench_$$"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cargo build --release --locked --bin beacon >&2
psql "$server/postgres" -qc "CREATE DATABASE $database" >/dev/null
export DATABASE_URL="$server/$database"
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; psql "$server/postgres" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null' EXIT
target/release/beacon seed --demo >/dev/null 2>&1

base="http://127.0.0.1:$port"
slug=ketamine-and-ptsd-a-ray-of-hope-for-trauma-survivors
run() {
  printf '%-52s' "$1"
  shift
  wrk -t2 -c16 -d"${seconds}s" --latency "$@" |
    awk '/Requests\/sec/ {rps=$2} $1 == "50%" {p50=$2} $1 == "99%" {p99=$2} END {printf "%10s req/s  p50 %8s  p99 %8s\n", rps, p50, p99}'
}

for cache in on off; do
  BEACON_CACHE=$cache BEACON_ADDR="127.0.0.1:$port" RUST_LOG=warn target/release/beacon serve &
  pid=$!
  for _ in $(seq 1 50); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  etag=$(curl -si "$base/v1/articles/$slug" | tr -d '\r' | awk 'tolower($1) == "etag:" {print $2}')
  echo "## BEACON_CACHE=$cache"
  run "GET /v1/articles (index)" "$base/v1/articles?limit=20"
  run "GET /v1/articles/{slug}" "$base/v1/articles/$slug"
  run "GET /v1/articles/{slug} Accept-Encoding: br" -H "Accept-Encoding: br" "$base/v1/articles/$slug"
  run "GET /v1/articles/{slug} If-None-Match (304)" -H "If-None-Match: $etag" "$base/v1/articles/$slug"
  run "GET /v1/articles?q=ketamine" "$base/v1/articles?q=ketamine"
  run "GET /v1/tags" "$base/v1/tags"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
done
