#!/usr/bin/env bash
# Fails when src/db/schema.rs differs from what `diesel print-schema` generates for a freshly
# migrated database. Installs diesel_cli when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

server=${SCHEMA_CHECK_SERVER:-postgres://postgres@127.0.0.1:5432}
database="beacon_schema_check_$$"

if ! command -v diesel >/dev/null 2>&1; then
  echo "installing diesel_cli (postgres only)…" >&2
  cargo install diesel_cli --version '^2.3' --no-default-features --features postgres --locked >&2
fi

psql "$server/postgres" -qc "CREATE DATABASE $database" >/dev/null
trap 'psql "$server/postgres" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null' EXIT

DATABASE_URL="$server/$database" diesel migration run --migration-dir migrations >/dev/null
generated=$(mktemp)
DATABASE_URL="$server/$database" diesel print-schema --config-file diesel.toml >"$generated"
if ! diff -u src/db/schema.rs "$generated"; then
  echo "src/db/schema.rs is out of date: regenerate it with \`diesel print-schema > src/db/schema.rs\` on a freshly migrated database" >&2
  exit 1
fi
echo "schema.rs matches the migrations"
