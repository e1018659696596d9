#!/usr/bin/env python3
"""The report of scripts/bench-big.sh: latency per workload and size, the ratio of the largest size
to the smallest, and the plans auto_explain logged. Usage: WORK WRITE SECONDS ROUNDS SIZE...
Writes docs/PERFORMANCE.md between <!-- bench-big:start --> and <!-- bench-big:end --> when WRITE
is "true"; prints the section either way."""
import collections
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys

work, write, seconds, rounds, *sizes = sys.argv[1:]
small, big = sizes[0], sizes[-1]
NAMES = {
    "first": "first list page",
    "tag": "tag page, common tag (`ptsd`, ~1/6 of articles)",
    "rare_tag": "tag page, rare tag (`eating-disorders`, ~1.2%)",
    "deep": "page 51 of the cursor chain",
    "search": "search, 50 matches at every size (`microdosing`)",
    "common_search": "search, common word (`ptsd`, ~1/6 of articles match)",
}

runs = collections.defaultdict(list)  # (workload, size) -> [(requests, p50, p99, errors)]
for line in open(f"{work}/results"):
    workload, size, *numbers = line.split()
    runs[(workload, size)].append([float(n) for n in numbers])


def med(workload, size, column):
    return statistics.median(r[column] for r in runs[(workload, size)])


ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \w+ \[\d+\] \S*@(\S+) (\w+):  (.*)$")


def plans(workload, size):
    """The statements one request ran, as (duration ms, query text, plan text)."""
    entries, current = [], None
    for line in open(f"{work}/plan-{workload}-{size}.log", encoding="utf-8", errors="replace"):
        match = ENTRY.match(line.rstrip("\n"))
        if match:
            current = [match.group(1), match.group(3)]
            entries.append(current)
        elif current is not None:
            current[1] += "\n" + line.rstrip("\n").removeprefix("\t")
    found = []
    for database, text in entries:
        m = re.match(r"duration: ([\d.]+) ms  plan:\nQuery Text: ([^\n]*)\n(.*)", text, re.S)
        if database == f"beacon_big_{size}" and m:
            found.append((float(m.group(1)), m.group(2), m.group(3).rstrip()))
    return found


def shape(plan):
    """The plan's nodes, one line, without costs."""
    nodes = []
    for line in plan.splitlines():
        m = re.match(r"\s*(?:->\s*)?([A-Z][^(]*?)\s+\(cost=[^)]*\) \(actual time=[\d.]+\.\.([\d.]+) rows=(\d+) loops=(\d+)\)", line)
        if m:
            nodes.append(f"{m.group(1).strip()} ({m.group(3)} rows{', ' + m.group(4) + ' loops' if m.group(4) != '1' else ''})")
    return " → ".join(nodes)


def buffers(plan):
    m = re.search(r"Buffers: ([^\n]*)", plan)
    return m.group(1).strip() if m else "none"


commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":")[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
server = subprocess.run(["psql", "-XAtc", "SHOW server_version", os.environ.get("BENCH_SERVER", "postgres://postgres@127.0.0.1:5432") + "/postgres"],
                        capture_output=True, text=True).stdout.strip().split()[0]


def counts(size):
    public, future, draft = open(f"{work}/counts-{size}").read().split("|")
    return (f"{int(size):,} articles ({int(public):,} public, {int(future):,} scheduled ahead, {int(draft):,} drafts; "
            f"database {open(f'{work}/bytes-{size}').read().strip()})")


label = lambda size: f"{int(size) // 1000:,}k" if int(size) < 1_000_000 else f"{int(size) // 1_000_000}M"
lines = [
    f"Run on {datetime.date.today()}, commit `{commit}`, {os.cpu_count()} cores ({cpu}), {platform.system()}, "
    f"PostgreSQL {server} (default settings: shared_buffers 128 MB); " + "; ".join(counts(s) for s in sizes) + ". "
    f"Release build, response cache off, one client (`wrk -t1 -c1`), {seconds} s per workload and size, the sizes "
    f"back to back, {rounds} rounds (medians below; the ratio of each round in brackets). Other work shared the "
    "machine: read ratios, not absolute numbers.",
    "",
    f"| workload | {label(small)} p50 / p99 ms | {label(big)} p50 / p99 ms | ratio p50 (rounds) | ratio p99 | requests | within 1.5× |",
    "|---|---|---|---|---|---|---|",
]
workloads = [w for w in NAMES if (w, small) in runs]
for w in workloads:
    per_round = [b[1] / s[1] for s, b in zip(runs[(w, small)], runs[(w, big)])]
    ratio = med(w, big, 1) / med(w, small, 1)
    ratio99 = med(w, big, 2) / med(w, small, 2)
    requests = f"{sum(r[0] for r in runs[(w, small)]):.0f} / {sum(r[0] for r in runs[(w, big)]):.0f}"
    errors = sum(r[3] for size in sizes for r in runs[(w, size)])
    done = all(r[0] > 0 for size in sizes for r in runs[(w, size)])
    verdict = "**no**: no request finished in a round" if not done else "yes" if ratio <= 1.5 else "**no**"
    lines.append(f"| {NAMES[w]} | {med(w, small, 1):.2f} / {med(w, small, 2):.2f} | {med(w, big, 1):.2f} / "
                 f"{med(w, big, 2):.2f} | **{ratio:.2f}** ({', '.join(f'{r:.2f}' for r in per_round)}) | {ratio99:.2f} | "
                 f"{requests}{f', {errors:.0f} errors' if errors else ''} | {verdict} |")
lines += ["", "The page query of one request as auto_explain logged it: its time of the request's total time in "
          "PostgreSQL, its plan (actual rows) and its shared buffers:", "",
          "| workload | size | ms | plan | buffers |", "|---|---|---|---|---|"]
details = ["", "<details><summary>The plans (EXPLAIN ANALYZE, BUFFERS through auto_explain) of every statement of one request</summary>", ""]
for w in workloads:
    for size in sizes:
        found = plans(w, size)
        if not found:
            lines.append(f"| {NAMES[w]} | {label(size)} | | no plan captured | |")
            continue
        # The page query (ordered and limited); the other statements are the pool's check,
        # the page's tags and, for a search, its snippets.
        pages = [f for f in found if "ORDER BY" in f[1] and "LIMIT" in f[1] and 'FROM "articles"' in f[1]]
        duration, _, plan = max(pages or found)
        total = sum(f[0] for f in found)
        lines.append(f"| {NAMES[w]} | {label(size)} | {duration:.2f} of {total:.2f} | {shape(plan)} | {buffers(plan)} |")
        details += [f"**{NAMES[w]}, {label(size)}** ({len(found)} statements):", "", "```"]
        for duration, query, plan in found:
            query = query if len(query) <= 400 else query[:400] + " …"
            details += [f"-- {duration:.3f} ms: {query}", plan, ""]
        details += ["```", ""]
details.append("</details>")
section = "\n".join(lines + details)
print(section)
if write == "true":
    with open("docs/PERFORMANCE.md") as f:
        text = f.read()
    start, end = "<!-- bench-big:start -->", "<!-- bench-big:end -->"
    before, _, rest = text.partition(start)
    _, _, after = rest.partition(end)
    with open("docs/PERFORMANCE.md", "w") as f:
        f.write(f"{before}{start}\n{section}\n{end}{after}")
