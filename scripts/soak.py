#!/usr/bin/env python3
"""Soak load for a running Beacon: a steady, open-loop mix of public reads, lead posts and staff
work, sampled every 10 seconds. Standard library only. Driven by scripts/soak.sh, which starts the
service and reconciles the leads this script saw acknowledged against the database.

Writes to OUT_DIR: samples.csv (one row per interval), receipts.txt (one acknowledged submission id
per line) and summary.json.
"""

import argparse
import csv
import http.client
import json
import os
import queue
import random
import statistics
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

SAMPLE_SECONDS = 10
WORKERS = 32

# Share of each request kind in the mix (sums to 100).
MIX = [
    ("article", 38),
    ("list", 14),
    ("search", 10),
    ("lead", 15),
    ("lead_retry", 3),
    ("staff_list", 10),
    ("staff_patch", 7),
    ("export", 3),
]


class Client:
    """A fixed set of keep-alive connections, all opened up front and handed out first in, first
    out. Opening them lazily (one per worker thread, as threads start) made Beacon's open-file
    count follow the client: each latency spike left a few more idle connections behind. Used in
    turn, every connection is reused well within Beacon's keep-alive (5 s by default), so none is
    closed and reopened while the load runs, and the count after warm-up measures Beacon."""

    def __init__(self, base, connections=1):
        self.parsed = urllib.parse.urlsplit(base)
        self.idle = queue.Queue()
        for _ in range(connections):
            connection = self.connect()
            connection.connect()
            self.idle.put(connection)

    def connect(self):
        return http.client.HTTPConnection(self.parsed.hostname, self.parsed.port, timeout=30)

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection = self.idle.get()
        try:
            for attempt in range(2):
                try:
                    connection.request(method, path, body=payload, headers=headers)
                    response = connection.getresponse()
                    data = response.read()
                    return response.status, response.getheader("ETag"), data
                except (http.client.HTTPException, OSError):
                    # Closed by the server (idle too long) or broken: reconnect once.
                    connection.close()
                    connection = self.connect()
                    if attempt == 1:
                        raise
            raise AssertionError("unreachable")
        finally:
            self.idle.put(connection)


class Soak:
    def __init__(self, args):
        self.args = args
        # One connection per worker thread, so a worker never waits for one.
        self.client = Client(args.base, connections=WORKERS)
        self.slugs = args.slugs
        self.interests = args.interests
        self.staff = {"Authorization": f"Bearer {args.leads_key}"}
        self.lock = threading.Lock()
        self.latencies = []  # seconds, this interval
        self.errors = []  # (kind, status or exception), whole run
        self.counts = {kind: 0 for kind, _ in MIX}
        self.receipts = {}  # idempotency key -> submission id
        self.bodies = {}  # idempotency key -> the body sent with it
        self.lead_ids = []

    # --- the request kinds -------------------------------------------------------------------

    def article(self):
        return self.expect(200, "GET", f"/v1/articles/{random.choice(self.slugs)}")

    def list(self):
        tag = random.choice(["", "", "&tag=ptsd", "&tag=depression"])
        return self.expect(200, "GET", f"/v1/articles?limit=20{tag}")

    def search(self):
        term = random.choice(["ketamine", "ptsd treatment", "depression", "anxiety relief"])
        return self.expect(200, "GET", "/v1/articles?q=" + urllib.parse.quote(term))

    def lead(self, key=None, body=None, wanted=201):
        key = key or str(uuid.uuid4())
        body = body or {
            "name": "Soak Visitor",
            "phone": f"+1415{random.randint(2, 9)}{random.randint(0, 999999):06d}",
            "interests": random.sample(self.interests, k=min(2, len(self.interests))),
            "consent": {"agreed": True, "text": "I agree that the clinic may call and text me.", "version": "soak"},
            "utm_source": "soak",
        }
        status, _, data = self.expect(wanted, "POST", "/v1/leads", body, {"Idempotency-Key": key})
        if status == 201:
            receipt = json.loads(data)["id"]
            with self.lock:
                self.bodies[key] = body
                earlier = self.receipts.setdefault(key, receipt)
            if earlier != receipt:
                self.fail("lead", f"idempotency key answered {receipt}, earlier {earlier}")
        return status

    def lead_retry(self):
        """The same submission sent again with its key, as a browser retrying after a timeout."""
        with self.lock:
            keys = list(self.bodies)[-50:]
        key = random.choice(keys) if keys else None
        # Two retries of one key may overlap: 409 (still being processed) is the API doing its job.
        return self.lead(key, self.bodies.get(key), wanted=(201, 409))

    def staff_list(self):
        status, _, data = self.expect(200, "GET", "/v1/leads?limit=20", headers=self.staff)
        if status == 200:
            with self.lock:
                self.lead_ids = [item["id"] for item in json.loads(data)["items"]] or self.lead_ids

    def staff_patch(self):
        with self.lock:
            ids = list(self.lead_ids)
        if not ids:
            return self.staff_list()
        lead = random.choice(ids)
        status, etag, _ = self.expect(200, "GET", f"/v1/leads/{lead}", headers=self.staff)
        if status != 200:
            return
        change = {"assignee": random.choice(["Maria", "Sam", "Lee"]), "note": "Soak: called, left a voicemail"}
        # Another worker may change the lead in between: 412 is the API doing its job.
        self.expect((200, 412), "PATCH", f"/v1/leads/{lead}", change, {**self.staff, "If-Match": etag})

    def export(self):
        # The last minute: a window that starts empty makes the load itself grow until it is
        # full, and the growth would be measured as Beacon's (a five-minute window filled until
        # minute 5, past the 2-minute warm-up).
        since = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat(timespec="seconds")
        path = "/v1/leads/export?created_after=" + urllib.parse.quote(since)
        return self.expect(200, "GET", path, headers=self.staff)

    # --- bookkeeping ---------------------------------------------------------------------------

    def expect(self, wanted, method, path, body=None, headers=None):
        wanted = wanted if isinstance(wanted, tuple) else (wanted,)
        started = time.perf_counter()
        try:
            status, etag, data = self.client.request(method, path, body, headers)
        except Exception as error:  # noqa: BLE001 - every failure is counted, none stops the run
            self.fail(f"{method} {path.split('?')[0]}", repr(error))
            return None, None, b""
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies.append(elapsed)
        if status not in wanted:
            self.fail(f"{method} {path.split('?')[0]}", f"status {status}: {data[:200]!r}")
        return status, etag, data

    def fail(self, what, detail):
        with self.lock:
            self.errors.append((time.time(), what, detail))

    def run_one(self, kind):
        with self.lock:
            self.counts[kind] += 1
        getattr(self, kind)()

    def take_latencies(self):
        with self.lock:
            taken, self.latencies = self.latencies, []
        return taken


def process_sample(pid):
    """RSS in MB, and its two parts: anonymous (the heap, stacks) and file-backed (the binary's
    and libraries' pages, read in as code first runs; clean, so the kernel can drop them); open
    files; and threads (each thread that allocates can get its own malloc arena, so a growing
    count is the first thing to check when RSS grows)."""
    with open(f"/proc/{pid}/status") as status:
        fields = dict(line.split(":", 1) for line in status)
    mb = lambda name: int(fields[name].split()[0]) / 1024
    return mb("VmRSS"), mb("RssAnon"), mb("RssFile"), len(os.listdir(f"/proc/{pid}/fd")), int(fields["Threads"])


def pool_sample(client, admin_key):
    """The pool gauges from /metrics: open, idle, and work waiting for a connection."""
    try:
        status, _, data = client.request("GET", "/metrics", headers={"Authorization": f"Bearer {admin_key}"})
    except Exception:  # noqa: BLE001
        return {}
    if status != 200:
        return {}
    values = {}
    for line in data.decode().splitlines():
        if line.startswith(("beacon_db_pool_connections ", "beacon_db_pool_idle_connections ", "beacon_db_pool_waiting ")):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def percentile(values, fraction):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--seconds", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True, help="requests per second, all kinds")
    parser.add_argument("--leads-key", required=True)
    parser.add_argument("--admin-key", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    metrics_client = Client(args.base)
    status, _, data = Client(args.base).request("GET", "/v1/articles?limit=100")
    args.slugs = [item["slug"] for item in json.loads(data)["items"]]
    status, _, data = Client(args.base).request("GET", "/v1/interests")
    args.interests = [item["code"] for item in json.loads(data)["items"]]
    soak = Soak(args)

    # SOAK_SKIP=export,search leaves kinds out, to tell apart what makes memory grow.
    skipped = set(filter(None, os.environ.get("SOAK_SKIP", "").split(",")))
    kinds = [kind for kind, weight in MIX if kind not in skipped for _ in range(weight)]
    pool = ThreadPoolExecutor(max_workers=WORKERS)
    samples = []
    started = time.monotonic()
    next_sample = started + SAMPLE_SECONDS
    interval = 1.0 / args.rate
    due = started
    while (now := time.monotonic()) < started + args.seconds:
        # Open loop: requests leave on schedule whether or not earlier ones have answered.
        while due <= now:
            pool.submit(soak.run_one, random.choice(kinds))
            due += interval
        if now >= next_sample:
            rss, rss_anon, rss_file, fds, threads = process_sample(args.pid)
            taken = soak.take_latencies()
            sample = {
                "seconds": round(now - started),
                "rss_mb": round(rss, 1),
                "rss_anon_mb": round(rss_anon, 1),
                "rss_file_mb": round(rss_file, 1),
                "fds": fds,
                "threads": threads,
                "requests": len(taken),
                "p50_ms": round(percentile(taken, 0.50) * 1000, 2),
                "p99_ms": round(percentile(taken, 0.99) * 1000, 2),
                "errors": len(soak.errors),
                **pool_sample(metrics_client, args.admin_key),
            }
            samples.append(sample)
            print(json.dumps(sample), flush=True)
            next_sample += SAMPLE_SECONDS
        time.sleep(min(interval, 0.01))
    pool.shutdown(wait=True)

    os.makedirs(args.out, exist_ok=True)
    fields = sorted({key for sample in samples for key in sample}, key=lambda k: (k != "seconds", k))
    with open(os.path.join(args.out, "samples.csv"), "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        writer.writerows(samples)
    with open(os.path.join(args.out, "receipts.txt"), "w") as out:
        out.writelines(f"{receipt}\n" for receipt in sorted(set(soak.receipts.values())))
    summary = {
        "seconds": args.seconds,
        "rate": args.rate,
        "requests": soak.counts,
        "acknowledged_leads": len(set(soak.receipts.values())),
        "idempotency_keys": len(soak.receipts),
        "errors": len(soak.errors),
        "first_errors": [f"{what}: {detail}" for _, what, detail in soak.errors[:10]],
        "p99_ms_median": statistics.median([s["p99_ms"] for s in samples]) if samples else 0,
    }
    with open(os.path.join(args.out, "summary.json"), "w") as out:
        json.dump(summary, out, indent=2)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
