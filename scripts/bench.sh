#!/usr/bin/env bash
# Benchmark: Beacon (release build, default settings, rate limits off) against pgbench running the
# SQL Beacon itself sends for the same request, on the same database, in alternating rounds.
# Not a test and not run in CI. Needs wrk and pgbench (apt-get install wrk postgresql-client).
#   scripts/bench.sh                    BENCH_ARTICLES=2000 BENCH_SECONDS=8 BENCH_ROUNDS=3
#   scripts/bench.sh --no-write         print the table, leave docs/PERFORMANCE.md alone
#   BENCH_WORKLOADS="lead slug_uncached" BENCH_BINARY=/tmp/beacon-before scripts/bench.sh --no-write
#                                       only these (of slug list slug_uncached list_uncached lead);
#                                       a partial run never writes docs/PERFORMANCE.md
#   scripts/bench.sh --big [--no-write] the 1,000,000-article scaling run: scripts/bench-big.sh
#
# How "the same SQL" is found: the capture instance runs with `log_statement = all` on the scratch
# database; for one request of each workload the statements it logged (with their parameters)
# become the pgbench script, one transaction per request. The lead workload has two baselines: a
# single-row insert of a lead-sized row, as the issue's target is stated against it, and the
# captured SQL of one enquiry, with fresh ids, number, lock keys and idempotency key drawn per
# transaction (so it records a new lead each time, as the workload does).
#
# Each round also records the CPU time per request of the Beacon process, of PostgreSQL, and of
# the load generator, from /proc: on a machine they share, that says what limits a workload.
set -euo pipefail
[ "${1:-}" = "--big" ] && exec "$(dirname "$0")/bench-big.sh" "${@:2}"
cd "$(dirname "$0")/.."

server=${BENCH_SERVER:-postgres://postgres@127.0.0.1:5432}
articles=${BENCH_ARTICLES:-2000}
seconds=${BENCH_SECONDS:-8}
rounds=${BENCH_ROUNDS:-3}
write=true
[ "${1:-}" = "--no-write" ] && write=false
all_workloads="slug list slug_uncached list_uncached lead"
workloads=${BENCH_WORKLOADS:-$all_workloads}
for w in $workloads; do
  [[ " $all_workloads " == *" $w "* ]] || { echo "unknown workload $w (of: $all_workloads)" >&2; exit 1; }
done
[ "$workloads" = "$all_workloads" ] || write=false
want() { [[ " $workloads " == *" $1 "* ]]; }
database="beacon_bench_$$"
work=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
uncached_port=$(free_port)
log=${BENCH_PG_LOG:-$(ls -t /var/log/postgresql/postgresql-*-main.log 2>/dev/null | head -n1)}

for tool in wrk pgbench; do
  command -v $tool >/dev/null || { echo "$tool is missing: apt-get install wrk postgresql-client" >&2; exit 1; }
done
[ -r "$log" ] || { echo "cannot read PostgreSQL's log (set BENCH_PG_LOG)" >&2; exit 1; }

# BENCH_PROFILE=dev smoke-tests the script itself; its numbers mean nothing.
profile=${BENCH_PROFILE:-release}
# BENCH_BINARY=path runs a binary built elsewhere (an older commit, for a before/after pair).
# Its numbers are not this commit's, so they are printed only.
beacon=${BENCH_BINARY:-}
[ -n "$beacon" ] && write=false
if [ -z "$beacon" ]; then
  cargo build --profile "$profile" --locked --bin beacon >&2
  beacon=target/$([ "$profile" = dev ] && echo debug || echo "$profile")/beacon
fi
psql "$server/postgres" -qc "CREATE DATABASE $database" >/dev/null
export DATABASE_URL="$server/$database"
pid=
uncached_pid=
stop() {
  for p in $pid $uncached_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  pid=; uncached_pid=
}
trap 'stop; psql "$server/postgres" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null; rm -rf "$work"' EXIT
serve() {  # [env assignments...]: the service on $port, as $pid
  BEACON_PREVIEW_SECRET=$secret BEACON_SUPPRESSION_SECRET=$secret \
  BEACON_ADDR="127.0.0.1:$port" BEACON_LEAD_RATE_PER_IP=0 BEACON_LEAD_RATE_PER_PHONE=0 \
    BEACON_MIN_FILL_SECONDS=0 RUST_LOG=warn "$@" $beacon serve &
  pid=$!
  for _ in $(seq 1 100); do curl -fs "$base/readyz" >/dev/null 2>&1 && return; sleep 0.2; done
  echo "beacon did not become ready" >&2; exit 1
}
base="http://127.0.0.1:$port"
secret=$(head -c 36 /dev/urandom | base64)

$beacon migrate >/dev/null
WRITER=$($beacon keys create --name bench-writer --scopes content:write | tail -n1)
serve
echo "seeding $articles articles of about 6 KB through the API" >&2
python3 - "$base" "$WRITER" "$articles" <<'EOF'
import json, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
base, key, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
topics = ["PTSD", "treatment-resistant depression", "anxiety", "chronic pain", "OCD", "bipolar depression"]
def create(n):
    topic = topics[n % len(topics)]
    sections = "\n\n".join(
        f"## {i}. {topic}: what the research says, part {i}\n\n"
        + f"Ketamine-assisted therapy for {topic} has been studied in clinics and trials. " * 5
        + f"\n\n1. **Relief within days** for many patients with {topic}.\n2. **Neuroplasticity.** New connections form.\n"
        for i in range(1, 8))
    body = {"title": f"Ketamine and {topic}: a guide for patients, number {n}", "slug": f"bench-article-{n}",
            "body_markdown": sections + "\n\n## Conclusion\n\nTalk to us about whether it is right for you.",
            "tags": [topic.split()[0].lower(), "ketamine-therapy"],
            "author": {"name": "Dr. Sam Okafor", "credentials": "MD, psychiatrist"}, "status": "published"}
    request = urllib.request.Request(f"{base}/v1/articles", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    urllib.request.urlopen(request).read()
with ThreadPoolExecutor(8) as pool:
    list(pool.map(create, range(1, count + 1)))
EOF
stop
psql "$DATABASE_URL" -qc "VACUUM ANALYZE" >/dev/null
psql "$DATABASE_URL" -qc "CREATE TABLE bench_insert (id uuid PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), name text, phone text, payload jsonb)" >/dev/null

# Capture the SQL of one request per read workload (background work and the cache off, so the
# request reaches the database and only it logs).
psql "$server/postgres" -qc "ALTER DATABASE $database SET log_statement = 'all'" >/dev/null
serve env BEACON_EVENT_SCAN_SECS=0 BEACON_WEBHOOK_WORKERS=0 BEACON_CACHE=off
capture() {  # name, path, [curl arguments]
  curl -fs "$base$2" "${@:3}" >/dev/null  # warm the pool's prepared statements
  capture_once "$@"
}
capture_once() {  # name, path, [curl arguments]
  local before
  sleep 0.3; before=$(stat -c %s "$log")
  curl -fs "$base$2" "${@:3}" >/dev/null
  sleep 0.3; tail -c +"$((before + 1))" "$log" >"$work/$1.log"
}
capture slug /v1/articles/bench-article-1
capture list "/v1/articles?limit=20"
# One enquiry, like the lead workload's: the first request warms, the second is captured (its
# own number and key, which the script below turns into per-transaction values).
lead_body() {
  echo '{"name":"Bench Visitor","phone":"'"$1"'","interests":["ptsd"],"consent":{"agreed":true,"text":"I agree that the clinic may call and text me.","version":"bench"}}'
}
curl -fs "$base/v1/leads" -H 'Content-Type: application/json' -H 'Idempotency-Key: bench-warm' \
  -d "$(lead_body +14155550100)" >/dev/null
capture_once lead /v1/leads -H 'Content-Type: application/json' -H 'Idempotency-Key: bench-captured-key' \
  -d "$(lead_body +14155550199)"
stop
psql "$server/postgres" -qc "ALTER DATABASE $database RESET log_statement" >/dev/null

python3 - "$work" "$database" <<'EOF'
import re, sys
work, database = sys.argv[1], sys.argv[2]
entry = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \w+ \[(\d+)\] \S*@(\S+) (\w+):  (.*)$")
def statements(name):
    entries, current = [], None
    for line in open(f"{work}/{name}.log", encoding="utf-8", errors="replace"):
        match = entry.match(line.rstrip("\n"))
        if match:
            current = [match.group(1), match.group(2), match.group(3), match.group(4)]
            entries.append(current)
        elif current is not None:
            current[3] += "\n" + line.rstrip("\n").lstrip("\t")
    # The request's own connection is the one that logged the most; a background sweep that
    # happened to run meanwhile logged on another.
    pids = [pid for pid, db, kind, _ in entries if db == database and kind == "LOG"]
    request_pid = max(set(pids), key=pids.count) if pids else None
    out, last = [], None
    for pid, db, kind, text in entries:
        if db != database or pid != request_pid:
            continue
        if kind == "LOG" and (m := re.match(r"(?:execute [^:]*|statement): (.*)", text, re.S)):
            last = [m.group(1), {}]
            out.append(last)
        elif kind == "DETAIL" and last is not None and text.startswith("parameters: "):
            for number, value in re.findall(r"\$(\d+) = ('(?:[^']|'')*'|NULL)", text):
                last[1][number] = value
    script = []
    for sql, params in out:
        sql = re.sub(r"\$(\d+)", lambda m: params.get(m.group(1), m.group(0)), sql)
        # One random article per transaction, like wrk's random slug.
        sql = sql.replace("'bench-article-1'", "('bench-article-' || :n)")
        script.append(sql.strip().rstrip(";") + ";")
    if not script:
        sys.exit(f"no statements captured for {name}: is log_statement honoured and the log readable?")
    header = "\\set n random(1, %s)\n" % 2000 if name == "slug" else ""
    if name == "lead":
        header, script = per_transaction(script)
    with open(f"{work}/{name}.sql", "w") as f:
        f.write(header)
        f.write("\n".join(s.replace("\n", " ") for s in script) + "\n")
    print(f"{name}: {len(script)} statements per request", file=sys.stderr)
def per_transaction(script):
    """An enquiry's statements as a pgbench transaction that, like the lead workload, records a
    new lead each time: fresh row ids, number, lock keys and idempotency key, drawn first
    (one extra statement for pgbench). Everything else (timestamps, hashes) stays as captured."""
    # Its transaction only: the pool may have lent the connection to a background sweep after.
    script = script[script.index("BEGIN;"):script.index("COMMIT;") + 1]
    text = "\n".join(script)
    ids = list(dict.fromkeys(re.findall(r"'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'", text)))
    draws = [f"gen_random_uuid() AS id{i}" for i in range(len(ids))]
    draws += ["'+1415' || (2000000 + (random() * 7999999)::int) AS phone", "gen_random_uuid()::text AS key",
              "(random() * 9e18)::bigint AS number_lock", "(random() * 9e18)::bigint AS key_lock"]
    header = "SELECT " + ", ".join(draws) + " \\gset\n"
    def replace(sql):
        for i, literal in enumerate(ids):
            sql = sql.replace(literal, f":id{i}")
        sql = sql.replace("'+14155550199'", ":phone").replace("'bench-captured-key'", ":key")
        sql = re.sub(r"(beacon_lock_number\()'-?\d+'", r"\1:number_lock", sql)
        return re.sub(r"(beacon_claim_idempotency_key\()'-?\d+'", r"\1:key_lock", sql)
    script = [replace(sql) for sql in script]
    for needed in (":phone", ":key", ":number_lock", ":key_lock"):
        if needed not in "\n".join(script):
            sys.exit(f"the captured enquiry has no place for {needed}: has intake's SQL changed?")
    return header, script
statements("slug")
statements("list")
statements("lead")
EOF
sed -i "s/random(1, 2000)/random(1, $articles)/" "$work/slug.sql"
cat >"$work/insert.sql" <<'EOF'
INSERT INTO bench_insert (id, name, phone, payload) VALUES (gen_random_uuid(), 'Jane Doe', '+14155552671', '{"interests": ["ptsd"], "consent": {"agreed": true}}');
EOF
cat >"$work/slug.lua" <<EOF
request = function() return wrk.format("GET", "/v1/articles/bench-article-" .. math.random(1, $articles)) end
EOF
cat >"$work/lead.lua" <<'EOF'
local counter = 0
local thread_id = 0
setup = function(thread) thread_id = thread_id + 1; thread:set("id", thread_id) end
request = function()
  counter = counter + 1
  local phone = string.format("+1415%d%06d", 2 + id, counter % 1000000)
  local body = '{"name":"Bench Visitor","phone":"' .. phone .. '","interests":["ptsd"],' ..
    '"consent":{"agreed":true,"text":"I agree that the clinic may call and text me.","version":"bench"}}'
  return wrk.format("POST", "/v1/leads", {["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "bench-" .. id .. "-" .. counter .. "-" .. math.random(1, 1e9)}, body)
end
EOF

serve
# The same build with the response cache off, beside it: the uncached targets are stated for it.
BEACON_PREVIEW_SECRET=$secret BEACON_SUPPRESSION_SECRET=$secret BEACON_CACHE=off \
  BEACON_ADDR="127.0.0.1:$uncached_port" RUST_LOG=warn $beacon serve &
uncached_pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$uncached_port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
uncached="http://127.0.0.1:$uncached_port"
# Where the machine's CPU went during a round: clock ticks used by the Beacon process serving it,
# by all of PostgreSQL's processes, and by everything (so the rest is the load generator).
cpu_ticks() {  # beacon pid (or 0); prints "beacon postgres total"
  python3 - "$1" <<'PY'
import os, sys
def ticks(pid):
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (FileNotFoundError, ProcessLookupError):
        return 0
postgres = sum(ticks(p) for p in os.listdir("/proc") if p.isdigit()
               and open(f"/proc/{p}/comm").read().strip() == "postgres")
busy = open("/proc/stat").readline().split()[1:]
total = sum(int(n) for n in busy) - int(busy[3]) - int(busy[4])  # all but idle and iowait
print(int(sys.argv[1]) and ticks(sys.argv[1]), postgres, total)
PY
}
cpu_per_request() {  # before, after, requests; prints "beacon_us postgres_us rest_us"
  python3 -c '
import os, sys
before, after, requests = sys.argv[1].split(), sys.argv[2].split(), float(sys.argv[3])
tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
b, p, t = (int(a) - int(c) for a, c in zip(after, before))
print(" ".join(f"{n * tick_us / max(requests, 1):.0f}" for n in (b, p, t - b - p)))' "$1" "$2" "$3"
}
wrk_round() {  # workload, target pid, wrk args...; prints "rps p50_ms p99_ms errors beacon_us postgres_us rest_us"
  local name=$1 target=$2 before line; shift 2
  before=$(cpu_ticks "$target")
  line=$(wrk_run "$name" "$@")
  echo "$line $(cpu_per_request "$before" "$(cpu_ticks "$target")" "$(echo "$line" | awk -v s="$seconds" '{print $1 * s}')")"
}
wrk_run() {
  local name=$1; shift
  wrk -t2 -c32 -d"${seconds}s" --latency "$@" 2>&1 | tee "$work/$name.wrk" | python3 -c '
import re, sys
text = sys.stdin.read()
def ms(label):
    m = re.search(r"^\s*" + label + r"\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)] if m else float("nan")
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", text))
errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
p50, p99 = ms("50%"), ms("99%")
print(f"{rps:.0f} {p50:.2f} {p99:.2f} {errors}")'
}
# pgbench's backends have exited by the time a round ends, so PostgreSQL's share of a pgbench
# round is the machine's busy time less pgbench's own (from its resource usage).
pgbench_round() {  # script; prints "tps p50_ms p99_ms errors 0 postgres_us pgbench_us"
  local before line
  before=$(cpu_ticks 0)
  line=$(pgbench_run "$1")
  python3 -c '
import os, sys
line, before, after = sys.argv[1].split(), sys.argv[2].split(), sys.argv[3].split()
requests = max(float(line[0]) * float(sys.argv[4]), 1)
busy_us = (int(after[2]) - int(before[2])) * 1e6 / os.sysconf("SC_CLK_TCK") / requests
own_us = float(open(sys.argv[5]).read()) * 1e6 / requests
print(" ".join(line), 0, f"{busy_us - own_us:.0f}", f"{own_us:.0f}")' \
    "$line" "$before" "$(cpu_ticks 0)" "$seconds" "$work/pgbench.cpu"
}
pgbench_run() {
  (cd "$work" && rm -f pgbench_log.* && python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[2:])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write(str(usage.ru_utime + usage.ru_stime))' "$work/pgbench.cpu" pgbench -n -M prepared -c 8 -j 2 -T "$seconds" -l -f "$1" "$DATABASE_URL" 2>&1) |
    tee "$work/$1.pgbench" | python3 -c '
import glob, re, sys
text = sys.stdin.read()
tps = float(re.search(r"tps = ([\d.]+)", text).group(1))
failed = re.search(r"number of failed transactions: (\d+)", text)
latencies = sorted(int(line.split()[2]) / 1000 for path in glob.glob(sys.argv[1] + "/pgbench_log.*") for line in open(path))
pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
print(f"{tps:.0f} {pick(0.5):.2f} {pick(0.99):.2f} {failed.group(1) if failed else 0}")' "$work"
}

results="$work/results"
: >"$results"
measure() {  # workload, pgbench script, Beacon pid, wrk args...: one Beacon round, one pgbench round
  echo "$1 beacon $(wrk_round "$1" "${@:3}")" >>"$results"
  echo "$1 pgbench $(pgbench_round "$2")" >>"$results"
}
for round in $(seq 1 "$rounds"); do
  echo "round $round of $rounds" >&2
  want slug && measure slug slug.sql "$pid" -s "$work/slug.lua" "$base"
  want list && measure list list.sql "$pid" "$base/v1/articles?limit=20"
  want slug_uncached && measure slug_uncached slug.sql "$uncached_pid" -s "$work/slug.lua" "$uncached"
  want list_uncached && measure list_uncached list.sql "$uncached_pid" "$uncached/v1/articles?limit=20"
  if want lead; then
    measure lead insert.sql "$pid" -s "$work/lead.lua" "$base"
    # The same Beacon round, against pgbench sending the SQL of one enquiry.
    echo "lead_sql beacon $(grep '^lead beacon' "$results" | tail -n1 | cut -d' ' -f3-)" >>"$results"
    echo "lead_sql pgbench $(pgbench_round lead.sql)" >>"$results"
  fi
done
peak_rss=$(awk '/VmHWM/ {printf "%d", $2 / 1024}' "/proc/$pid/status")
peak_rss_uncached=$(awk '/VmHWM/ {printf "%d", $2 / 1024}' "/proc/$uncached_pid/status")
stop

python3 - "$results" "$peak_rss/$peak_rss_uncached" "$articles" "$seconds" "$rounds" "$write" "$work" <<'EOF'
import collections, datetime, os, platform, statistics, subprocess, sys
path, peak_rss, articles, seconds, rounds, write, work = sys.argv[1:8]
runs = collections.defaultdict(list)
for line in open(path):
    workload, side, *numbers = line.split()
    runs[(workload, side)].append([float(n) for n in numbers])
def median(workload, side, column):
    return statistics.median(r[column] for r in runs[(workload, side)])
names = {"slug": "one article by random slug", "list": "first list page (20)",
         "slug_uncached": "one article by random slug, cache off",
         "list_uncached": "first list page (20), cache off",
         "lead": "`POST /v1/leads`, unique numbers",
         "lead_sql": "`POST /v1/leads`, against the SQL of one enquiry"}
baseline = {"slug": "same SQL", "list": "same SQL", "slug_uncached": "same SQL",
            "list_uncached": "same SQL", "lead": "single-row insert", "lead_sql": "same SQL"}
rows = ["| workload | Beacon req/s | p50 / p99 ms | errors | pgbench tps | pgbench p50 / p99 ms | pgbench runs | ratio |",
        "|---|---|---|---|---|---|---|---|"]
for w in ("slug", "list", "slug_uncached", "list_uncached", "lead", "lead_sql"):
    if (w, "beacon") not in runs:
        continue
    b, p = median(w, "beacon", 0), median(w, "pgbench", 0)
    rows.append(f"| {names[w]} | {b:.0f} | {median(w, 'beacon', 1):.1f} / {median(w, 'beacon', 2):.1f} | "
                f"{sum(r[3] for r in runs[(w, 'beacon')]):.0f} | {p:.0f} | {median(w, 'pgbench', 1):.1f} / "
                f"{median(w, 'pgbench', 2):.1f} | {baseline[w]} | {b / p:.2f} |")
# CPU per request says what limits a workload on a machine the service shares with PostgreSQL
# and the load generator: whoever spends the most of the two cores' time per request.
cpu_rows = ["| workload | Beacon µs | its PostgreSQL µs | wrk and the rest µs | pgbench's PostgreSQL µs | pgbench µs |",
            "|---|---|---|---|---|---|"]
for w in ("slug", "list", "slug_uncached", "list_uncached", "lead", "lead_sql"):
    if (w, "beacon") not in runs or len(runs[(w, "beacon")][0]) < 7:
        continue
    cpu_rows.append(f"| {names[w]} | {median(w, 'beacon', 4):.0f} | {median(w, 'beacon', 5):.0f} | "
                    f"{median(w, 'beacon', 6):.0f} | {median(w, 'pgbench', 5):.0f} | {median(w, 'pgbench', 6):.0f} |")
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":")[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
header = (f"Run on {datetime.date.today()}, commit `{commit}`, {os.cpu_count()} cores ({cpu}), {platform.system()}; "
          f"{articles} published articles of about 6 KB; wrk 2 threads × 32 connections, pgbench 8 clients "
          f"(prepared), {seconds} s rounds, median of {rounds}; peak RSS {peak_rss} MB (cache on / off).")
scripts = ["<details><summary>The pgbench scripts (the SQL Beacon sent for one request)</summary>", ""]
for name in ("slug.sql", "list.sql", "insert.sql", "lead.sql"):
    scripts += [f"`{name}`:", "", "```sql", open(f"{work}/{name}").read().strip(), "```", ""]
scripts.append("</details>")
cpu_note = ("CPU time per request (µs, medians), from /proc: for Beacon's rounds the Beacon process, all of "
            "PostgreSQL's processes, and the rest of the machine (mostly wrk); for pgbench's rounds the "
            "machine's busy time less pgbench's own, and pgbench's own.")
table = "\n".join([header, "", *rows, "", cpu_note, "", *cpu_rows, "", *scripts])
print(table)
if write == "true":
    with open("docs/PERFORMANCE.md") as f:
        text = f.read()
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    before, _, rest = text.partition(start)
    _, _, after = rest.partition(end)
    with open("docs/PERFORMANCE.md", "w") as f:
        f.write(f"{before}{start}\n{table}\n{end}{after}")
EOF
