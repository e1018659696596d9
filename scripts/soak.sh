#!/usr/bin/env bash
# Soak: a steady mixed load on a release build for SOAK_MINUTES (default 10), sampling RSS, open
# file descriptors, pool use and p50/p99 every 10 s; then every acknowledged lead is reconciled
# against the database (exactly once each), and the report with its plot goes to docs/SOAK.md.
# Not run in CI. Needs psql and gnuplot (installed with apt-get when missing).
#   scripts/soak.sh                     SOAK_MINUTES=60 SOAK_RATE=40 scripts/soak.sh
# SOAK_REPORT=DIR writes the report and plot there instead of docs/ (for comparison runs), and
# SOAK_WRAP runs the service under a profiler, e.g. SOAK_WRAP="heaptrack -o /tmp/beacon".
# Anything else in the environment reaches the service: BEACON_CACHE=off, MALLOC_ARENA_MAX=8...
set -euo pipefail
cd "$(dirname "$0")/.."

server=${SOAK_SERVER:-postgres://postgres@127.0.0.1:5432}
minutes=${SOAK_MINUTES:-10}  # may be fractional: 0.5 is a 30 s smoke run
rate=${SOAK_RATE:-40}
articles=${SOAK_ARTICLES:-500}
database="beacon_soak_$$"
out=$(mktemp -d)
report=${SOAK_REPORT:-docs}
mkdir -p "$report"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

command -v gnuplot >/dev/null ||
  (apt-get install -y -qq gnuplot-nox >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq gnuplot-nox >/dev/null))
# SOAK_PROFILE=dev smoke-tests the script itself on a debug build.
profile=${SOAK_PROFILE:-release}
# SOAK_BINARY=path soaks a binary built elsewhere (another commit, another allocator) beside this one.
if [ -z "${SOAK_BINARY:-}" ]; then
  cargo build --profile "$profile" --locked --bin beacon >&2
fi
psql "$server/postgres" -qc "CREATE DATABASE $database" >/dev/null
export DATABASE_URL="$server/$database"
beacon=${SOAK_BINARY:-target/$([ "$profile" = dev ] && echo debug || echo "$profile")/beacon}
$beacon migrate >/dev/null
ADMIN=$($beacon keys create --name soak-admin --scopes admin | tail -n1)
WRITER=$($beacon keys create --name soak-writer --scopes content:write | tail -n1)
STAFF=$($beacon keys create --name soak-staff --scopes leads:read,leads:write | tail -n1)

# Rate limits and the fill-time check would refuse one client posting many enquiries. The
# malloc settings are the Dockerfile's (see the comment there); set them empty to compare.
BEACON_ADDR="127.0.0.1:$port" BEACON_LEAD_RATE_PER_IP=0 BEACON_LEAD_RATE_PER_PHONE=0 \
  BEACON_MIN_FILL_SECONDS=0 RUST_LOG=warn \
  MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX-2} MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_-131072} \
  ${SOAK_WRAP:-} $beacon serve &
wrapper=$!
pid=$wrapper
# Under a wrapper, sample and stop the service itself (its child), so the wrapper can finish.
[ -n "${SOAK_WRAP:-}" ] && for _ in $(seq 1 100); do
  pid=$(pgrep -P "$wrapper" -x beacon || true); [ -n "$pid" ] && break; sleep 0.1
done
trap 'kill $pid 2>/dev/null; wait $wrapper 2>/dev/null; psql "$server/postgres" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null; rm -rf "$out"' EXIT
base="http://127.0.0.1:$port"
# A minute: a profiler wrapping a loaded machine's start-up takes a while.
for _ in $(seq 1 300); do curl -fs "$base/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$base/readyz" >/dev/null || { echo "the service did not become ready" >&2; exit 1; }

echo "seeding $articles articles of about 6 KB through the API" >&2
python3 - "$base" "$WRITER" "$articles" <<'EOF'
import json, sys, urllib.request
base, key, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
topics = ["PTSD", "treatment-resistant depression", "anxiety", "chronic pain", "OCD"]
for n in range(count):
    topic = topics[n % len(topics)]
    sections = "\n\n".join(
        f"## {i}. What to know about {topic}, part {i}\n\n" + ("Ketamine therapy for " + topic +
        " is studied in clinics and trials; patients describe relief within days. ") * 9
        for i in range(1, 7))
    body = {"title": f"Ketamine and {topic}: a guide, number {n}", "body_markdown": sections +
            "\n\n## Conclusion\n\nTalk to us about whether it is right for you.",
            "tags": [topic.split()[0].lower().strip("-"), "ketamine-therapy"],
            "author": {"name": "Dr. Sam Okafor"}, "status": "published"}
    request = urllib.request.Request(f"{base}/v1/articles", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    urllib.request.urlopen(request).read()
EOF
psql "$DATABASE_URL" -qc "ANALYZE" >/dev/null

echo "soaking for $minutes minutes at $rate requests/s" >&2
python3 scripts/soak.py --base "$base" --pid "$pid" --seconds "$(python3 -c "print(int(float('$minutes') * 60))")" --rate "$rate" \
  --leads-key "$STAFF" --admin-key "$ADMIN" --out "$out"

# Reconcile: every acknowledged receipt is stored once, and nothing was stored twice.
reconcile=$(psql "$DATABASE_URL" -qAt -v ON_ERROR_STOP=1 <<EOF
CREATE TEMP TABLE acknowledged (id uuid PRIMARY KEY);
\copy acknowledged FROM '$out/receipts.txt'
SELECT (SELECT count(*) FROM acknowledged) || ' ' ||
       (SELECT count(*) FROM acknowledged a LEFT JOIN lead_submissions s USING (id) WHERE s.id IS NULL) || ' ' ||
       (SELECT count(*) FROM lead_submissions s LEFT JOIN acknowledged a USING (id) WHERE a.id IS NULL);
EOF
)
read -r acknowledged missing unacknowledged <<<"$reconcile"

# The plot: RSS and p99 over time.
gnuplot <<EOF
set terminal svg size 900,420 font "sans,12"
set output "$report/soak.svg"
set datafile separator ","
set key autotitle columnhead top left
set xlabel "seconds"
set ylabel "RSS (MB)"
set y2label "p99 (ms)"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
plot "$out/samples.csv" using "seconds":"rss_mb" with lines lw 2 title "RSS (MB)", \
     "" using "seconds":"rss_anon_mb" with lines lw 1 title "of which anonymous (MB)", \
     "" using "seconds":"p99_ms" axes x1y2 with lines lw 2 title "p99 (ms)"
EOF

python3 - "$out" "$minutes" "$rate" "$articles" "$acknowledged" "$missing" "$unacknowledged" "$profile" "$report" <<'EOF'
import csv, json, subprocess, sys, datetime, os
out, minutes, rate, articles, acknowledged, missing, unacknowledged, profile, report = sys.argv[1:10]
rows = list(csv.DictReader(open(f"{out}/samples.csv")))
summary = json.load(open(f"{out}/summary.json"))
def at(second, field):
    """The value at the first sample at or after `second`."""
    return float(next((r for r in rows if int(r["seconds"]) >= second), rows[-1])[field])
end = int(rows[-1]["seconds"])
warm = min(120, end // 5)
growth = lambda field: (at(end, field) - at(warm, field)) / max(at(warm, field), 1) * 100
p99 = sorted(float(r["p99_ms"]) for r in rows if int(r["seconds"]) >= warm)
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":")[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
checks = [
    ("no errors", summary["errors"] == 0, f"{summary['errors']} errors"),
    ("every acknowledged lead stored exactly once", missing == "0" and unacknowledged == "0",
     f"{acknowledged} acknowledged, {missing} of them missing, {unacknowledged} stored but never acknowledged"),
    ("RSS growth after warm-up under 5%", growth("rss_mb") < 5, f"{at(warm, 'rss_mb'):.1f} → {at(end, 'rss_mb'):.1f} MB ({growth('rss_mb'):+.1f}%)"),
    ("open files growth after warm-up under 5%", growth("fds") < 5, f"{at(warm, 'fds'):.0f} → {at(end, 'fds'):.0f} ({growth('fds'):+.1f}%)"),
]
lines = [
    "# Soak run", "",
    f"Made by `scripts/soak.sh` on {datetime.date.today()}, commit `{commit}`, {os.cpu_count()} cores ({cpu}), "
    f"PostgreSQL and Beacon ({profile} build) on the same machine.", "",
    f"{minutes} minutes at {rate} requests/s (open loop), {articles} published articles of about 6 KB seeded through the API. "
    "Mix: 38% article by slug, 14% list page (some by tag), 10% search, 15% lead post with a fresh "
    "`Idempotency-Key`, 3% a lead post repeating a recent key, 10% staff list, 7% staff read + `PATCH` "
    "with `If-Match` (a `412` from a concurrent edit counts as correct), 3% CSV export of the last minute.", "",
    "![RSS and p99 over time](soak.svg)", "",
    "| check | result | |", "|---|---|---|",
    *[f"| {name} | {'pass' if ok else '**FAIL**'} | {detail} |" for name, ok, detail in checks],
    "", f"RSS in its two parts, from {at(warm, 'rss_mb'):.1f} MB at warm-up to {at(end, 'rss_mb'):.1f} MB at the end: "
    f"anonymous memory (heap, stacks) {at(warm, 'rss_anon_mb'):.1f} → {at(end, 'rss_anon_mb'):.1f} MB "
    f"({growth('rss_anon_mb'):+.1f}%); file-backed pages (the binary and its libraries, read in as code first runs; "
    f"clean, so the kernel can drop them) {at(warm, 'rss_file_mb'):.1f} → {at(end, 'rss_file_mb'):.1f} MB "
    f"({growth('rss_file_mb'):+.1f}%).",
    "", f"Requests sent: {sum(summary['requests'].values())} ({', '.join(f'{k} {v}' for k, v in summary['requests'].items())}).",
    f"p99 after warm-up, per 10 s interval: median {p99[len(p99)//2]:.1f} ms, worst {p99[-1]:.1f} ms.", "",
]
if summary["first_errors"]:
    lines += ["First errors:", "", *[f"- `{e}`" for e in summary["first_errors"]], ""]
lines += ["<details><summary>Samples (every 10 s)</summary>", "", "| " + " | ".join(rows[0]) + " |",
          "|" + "---|" * len(rows[0]), *["| " + " | ".join(r.values()) + " |" for r in rows], "", "</details>", ""]
# The hand-written notes after the marker (what grew and why) outlive the run that replaces the rest.
marker = "<!-- notes: kept by soak.sh -->"
try:
    notes = open(f"{report}/SOAK.md").read().partition(marker)
except FileNotFoundError:
    notes = ("", "", "")
if notes[1]:
    lines += [marker + notes[2].rstrip("\n"), ""]
open(f"{report}/SOAK.md", "w").write("\n".join(lines))
print("\n".join(lines[:20]))
EOF

# A failed check fails the run, so an unattended hour ends with an honest exit status.
grep -q '\*\*FAIL\*\*' "$report/SOAK.md" && exit 1 || true
