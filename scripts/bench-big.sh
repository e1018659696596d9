#!/usr/bin/env bash
# The scaling run of issue 12 (`scripts/bench.sh --big`): does a public read cost the same at
# 1,000,000 articles as at 10,000? Not a test and not run in CI; needs wrk and ~10 GB of disk.
#   scripts/bench-big.sh              BIG_SIZES="10000 1000000" BIG_SECONDS=10 BIG_ROUNDS=2
#   scripts/bench-big.sh --no-write   print the section, leave docs/PERFORMANCE.md alone
#   BIG_KEEP=1                        keep the scratch databases (beacon_big_<size>) for EXPLAINs
#   BIG_REUSE=1                       measure kept databases again (migrated first) instead of generating
#
# Each size gets its own scratch database. A few hundred template articles go through Beacon's
# own write path (so their HTML, plain text, outline, excerpt and counts are Beacon's), then SQL
# copies them into the wanted number of rows with their own ids (v7, from created_at), titles,
# slugs, authors' bodies, statuses (published, scheduled past and future, draft, archived),
# published_at spread over eight years, 1-3 tags from a skewed tag set, and old slugs for some;
# the search vector is the table's generated column. Then ANALYZE, and for each workload a
# single client (wrk -c1 -t1, the response cache off) against each size, back to back, in
# rounds; then one request per workload with auto_explain logging the plans PostgreSQL ran.
set -euo pipefail
cd "$(dirname "$0")/.."

server=${BENCH_SERVER:-postgres://postgres@127.0.0.1:5432}
sizes=${BIG_SIZES:-10000 1000000}
seconds=${BIG_SECONDS:-10}
rounds=${BIG_ROUNDS:-2}
templates=${BIG_TEMPLATES:-240}
write=true
[ "${1:-}" = "--no-write" ] && write=false
work=$(mktemp -d)
log=${BENCH_PG_LOG:-$(ls -t /var/log/postgresql/postgresql-*-main.log 2>/dev/null | head -n1)}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
[ -r "$log" ] || { echo "cannot read PostgreSQL's log (set BENCH_PG_LOG)" >&2; exit 1; }

profile=${BENCH_PROFILE:-release}  # dev smoke-tests the script; its numbers mean nothing
cargo build --profile "$profile" --locked --bin beacon >&2
beacon=target/$([ "$profile" = dev ] && echo debug || echo "$profile")/beacon
secret=$(head -c 36 /dev/urandom | base64)

declare -A pids ports
stop_all() {
  for size in "${!pids[@]}"; do kill "${pids[$size]}" 2>/dev/null && wait "${pids[$size]}" 2>/dev/null; done
  pids=()
}
cleanup() {
  stop_all
  if [ -z "${BIG_KEEP:-}" ]; then
    for size in $sizes; do psql "$server/postgres" -qc "DROP DATABASE IF EXISTS beacon_big_$size WITH (FORCE)" >/dev/null; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
serve() {  # size [env assignments...]: Beacon on its database, cache off, no background work
  local size=$1; shift
  ports[$size]=$(free_port)
  env DATABASE_URL="$server/beacon_big_$size" BEACON_ADDR="127.0.0.1:${ports[$size]}" \
    BEACON_PREVIEW_SECRET=$secret BEACON_SUPPRESSION_SECRET=$secret BEACON_CACHE=off \
    BEACON_EVENT_SCAN_SECS=0 BEACON_WEBHOOK_WORKERS=0 RUST_LOG=warn "$@" $beacon serve &
  pids[$size]=$!
  for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:${ports[$size]}/readyz" >/dev/null 2>&1 && return; sleep 0.2; done
  echo "beacon did not become ready on beacon_big_$size" >&2; exit 1
}
sql() { psql "$server/beacon_big_$1" -X -q -v ON_ERROR_STOP=1 "${@:2}"; }

generate() {  # size
  local size=$1 database=beacon_big_$1
  psql "$server/postgres" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database" >/dev/null
  DATABASE_URL="$server/$database" $beacon migrate >/dev/null
  local key
  key=$(DATABASE_URL="$server/$database" $beacon keys create --name bench-big --scopes content:write | tail -n1)
  serve "$size"
  python3 scripts/bench-big-templates.py "http://127.0.0.1:${ports[$size]}" "$key" "$templates"
  stop_all
  echo "$database: generating $size articles in SQL" >&2
  local started=$SECONDS expression
  expression=$(sql "$size" -At -c "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a
      ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = 'articles'::regclass AND a.attname = 'search'")
  sql "$size" -v templates="$templates" -f - <<'SQL'
-- The templates, numbered; their rows leave `articles` so only generated rows remain.
CREATE UNLOGGED TABLE bench_templates AS
  SELECT (row_number() OVER (ORDER BY slug) - 1)::int AS k, substring(slug FROM '^tpl-(.*)-[0-9]+$') AS topic_key, a.*
  FROM articles a WHERE slug LIKE 'tpl-%';
DELETE FROM articles WHERE slug LIKE 'tpl-%';
-- The search vector: PostgreSQL computes the generated column at ~2-4 ms a row for a 6 KB body,
-- over an hour for a million. Its body part is the same for every copy of a template, so it is
-- computed once per template and joined to each row's title part; the column stops being
-- generated in this scratch database only, and a sample is checked against the column's own
-- expression after the load.
ALTER TABLE bench_templates ADD COLUMN body_vector tsvector;
UPDATE bench_templates SET body_vector =
  setweight(to_tsvector('english', coalesce(subtitle, '') || ' ' || excerpt), 'B')
  || setweight(to_tsvector('english', body_text), 'C');
ALTER TABLE articles ALTER COLUMN search DROP EXPRESSION;
-- A realistic tag set: six topics, one tag on half of all articles, and 30 others drawn with
-- a skew (the first is common, the last rare), created as Beacon's write path creates tags.
CREATE UNLOGGED TABLE bench_tags (i int, slug text, name text);
INSERT INTO bench_tags VALUES
  (-1, 'ketamine-therapy', 'Ketamine therapy'),
  (-2, 'ptsd', 'PTSD'), (-3, 'depression', 'Depression'), (-4, 'anxiety', 'Anxiety'),
  (-5, 'chronic-pain', 'Chronic pain'), (-6, 'ocd', 'OCD'), (-7, 'bipolar-depression', 'Bipolar depression');
INSERT INTO bench_tags
  SELECT i - 1, s, initcap(replace(s, '-', ' ')) FROM unnest(ARRAY[
    'research', 'patient-stories', 'insurance', 'infusions', 'integration', 'veterans', 'first-responders',
    'side-effects', 'esketamine', 'neuroplasticity', 'family', 'sleep', 'costs', 'referrals', 'safety',
    'psychotherapy', 'clinical-trials', 'boosters', 'telehealth', 'nutrition', 'mindfulness', 'postpartum',
    'adolescents', 'older-adults', 'migraine', 'fibromyalgia', 'crps', 'suicidal-ideation', 'alcohol-use',
    'eating-disorders']) WITH ORDINALITY AS t(s, i);
INSERT INTO tags (id, slug, name, created_at, updated_at)
  SELECT gen_random_uuid(), slug, name, now() - interval '8 years', now() - interval '8 years' FROM bench_tags
  ON CONFLICT (slug) DO NOTHING;
SQL
  # Indexes other than primary keys and unique constraints are built after the load (much
  # faster, same result). Triggers are off during the load (foreign keys, notifications, the
  # copies of each article's status and published_at in article_tags): the rows are consistent
  # by construction, which the checks after the load confirm.
  sql "$size" -At -c "SELECT pg_get_indexdef(i.indexrelid) || ';' FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
      WHERE c.relname IN ('articles', 'article_tags', 'article_slug_history') AND NOT EXISTS
      (SELECT 1 FROM pg_constraint WHERE conindid = i.indexrelid)" >"$work/indexes-$size.sql"
  sql "$size" -At -c "SELECT 'DROP INDEX ' || i.indexrelid::regclass || ';' FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
      WHERE c.relname IN ('articles', 'article_tags', 'article_slug_history') AND NOT EXISTS
      (SELECT 1 FROM pg_constraint WHERE conindid = i.indexrelid)" | sql "$size" -f -
  local batch=$(( size < 100000 ? size : 100000 ))
  seq 0 "$batch" "$((size - 1))" | xargs -P "${BIG_JOBS:-2}" -I{} psql "$server/$database" -X -q -v ON_ERROR_STOP=1 \
    -v first={} -v last="$(( batch - 1 ))" -v size="$size" -v templates="$templates" -f scripts/bench-big-rows.sql >/dev/null
  local differ
  differ=$(sql "$size" -At -c "SELECT count(*) FILTER (WHERE search IS DISTINCT FROM ($expression)) || ' of ' || count(*)
      FROM articles TABLESAMPLE BERNOULLI (least(100, 50000.0 / $size)) REPEATABLE (1)")
  [ "${differ%% *}" = 0 ] || { echo "$database: search vectors differ from the column's expression in $differ sampled rows" >&2; exit 1; }
  differ=$(sql "$size" -At -c "SELECT count(*) FROM article_tags t JOIN articles a ON a.id = t.article_id
      WHERE (t.status, t.published_at) IS DISTINCT FROM (a.status, a.published_at)")
  [ "$differ" = 0 ] || { echo "$database: $differ tag rows differ from their article's status or published_at" >&2; exit 1; }
  sql "$size" -c "SET maintenance_work_mem = '1GB'" -f "$work/indexes-$size.sql" \
    -c "DROP TABLE bench_templates, bench_tags" -c "VACUUM ANALYZE"
  echo "$database: $size articles in $((SECONDS - started)) s, $(sql "$size" -At -c "SELECT pg_size_pretty(pg_database_size(current_database()))")" >&2
}

for size in $sizes; do
  if [ -n "${BIG_REUSE:-}" ] && psql "$server/postgres" -Atc "SELECT 1 FROM pg_database WHERE datname = 'beacon_big_$size'" | grep -q 1; then
    echo "beacon_big_$size: reused, migrated" >&2
    DATABASE_URL="$server/beacon_big_$size" $beacon migrate >/dev/null
    sql "$size" -c "ANALYZE"
  else
    generate "$size"
  fi
done
for size in $sizes; do serve "$size"; done

# The workloads, as paths. The deep page is the 51st, reached by following `next` cursors.
declare -A paths=(
  [first]="/v1/articles?limit=20"
  [tag]="/v1/articles?limit=20&tag=ptsd"
  [rare_tag]="/v1/articles?limit=20&tag=eating-disorders"
  [search]="/v1/articles?limit=20&q=microdosing"
  [common_search]="/v1/articles?limit=20&q=ptsd"
)
workloads="first tag rare_tag deep search common_search"
for size in $sizes; do
  python3 - "http://127.0.0.1:${ports[$size]}" >"$work/deep-$size" <<'EOF'
import json, sys, urllib.parse, urllib.request
base, path = sys.argv[1], "/v1/articles?limit=20"
for _ in range(50):
    page = json.load(urllib.request.urlopen(base + path))
    if not page["next_cursor"]:
        sys.exit("fewer than 51 pages of public articles: the deep page needs more articles")
    path = "/v1/articles?limit=20&cursor=" + urllib.parse.quote(page["next_cursor"])
print(path)
EOF
done

single() {  # size workload seconds; prints "requests p50_ms p99_ms errors"
  local path=${paths[$2]:-$(cat "$work/deep-$1")}
  wrk -t1 -c1 -d"$3s" --timeout 60s --latency "http://127.0.0.1:${ports[$1]}$path" 2>&1 | python3 -c '
import re, sys
text = sys.stdin.read()
def ms(label):
    m = re.search(r"^\s*" + label + r"\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)] if m else float("nan")
requests = int(re.search(r"(\d+) requests in", text).group(1))
errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", text))
errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
p50, p99 = ms("50%"), ms("99%")
print(f"{requests} {p50:.2f} {p99:.2f} {errors}")'
}
results="$work/results"
: >"$results"
for workload in $workloads; do for size in $sizes; do single "$size" "$workload" 2 >/dev/null; done; done  # warm up
for round in $(seq 1 "$rounds"); do
  echo "round $round of $rounds" >&2
  for workload in $workloads; do
    for size in $sizes; do echo "$workload $size $(single "$size" "$workload" "$seconds")" >>"$results"; done
  done
done
stop_all

# The plans: auto_explain logs every statement one request of each workload ran, with actual
# times and buffers, from a fresh process (a new connection picks the settings up).
for size in $sizes; do
  sql "$size" -c "ALTER DATABASE beacon_big_$size SET session_preload_libraries = 'auto_explain'" \
    -c "ALTER DATABASE beacon_big_$size SET auto_explain.log_min_duration = 0" \
    -c "ALTER DATABASE beacon_big_$size SET auto_explain.log_analyze = on" \
    -c "ALTER DATABASE beacon_big_$size SET auto_explain.log_buffers = on"
  serve "$size"
  for workload in $workloads; do
    path=${paths[$workload]:-$(cat "$work/deep-$size")}
    # Not -f: a request the statement timeout cancels still logs the plan it was running.
    curl -s "http://127.0.0.1:${ports[$size]}$path" >/dev/null  # prepared statements warm
    sleep 0.3; before=$(stat -c %s "$log")
    curl -s "http://127.0.0.1:${ports[$size]}$path" >/dev/null
    sleep 0.3; tail -c +"$((before + 1))" "$log" >"$work/plan-$workload-$size.log"
  done
  stop_all
  sql "$size" -c "ALTER DATABASE beacon_big_$size RESET ALL"
  sql "$size" -At -c "SELECT pg_size_pretty(pg_database_size(current_database()))" >"$work/bytes-$size"
  sql "$size" -At -c "SELECT count(*) FILTER (WHERE status IN ('published', 'scheduled') AND published_at <= now()),
      count(*) FILTER (WHERE status = 'scheduled' AND published_at > now()), count(*) FILTER (WHERE status = 'draft')
      FROM articles" >"$work/counts-$size"
done

python3 scripts/bench-big-report.py "$work" "$write" "$seconds" "$rounds" $sizes
