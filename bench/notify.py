"""Notifications never at the cost of scheduling: lateness of other jobs while 1,000 failures are
notified to a receiver that answers in 2 s, and deliveries per second to a fast receiver.

Three runs of the same scene, each with a fresh store and daemon: 20 probe jobs run ``true``
every second, one every 50 ms of the second (their slots fall at fixed moments relative to the
burst, so every case meets the burst alike), and 1,000 one-shot jobs run ``false`` at one
instant (a burst of 1,000 failures). ``misfire_grace_seconds`` is raised so that a late probe
still runs and counts with its lateness instead of dropping out as ``missed``. The probes'
lateness (process start minus slot) over the window is compared:

- baseline: no notifier;
- slow: every failure is notified (``[notify] default``) to a webhook on 127.0.0.1 that answers
  after 2 s; target: the probes' p95 and p99 lateness at most 1.5x the baseline's;
- fast: the same to a webhook that answers at once; target: >= 200 deliveries/s, from the
  first delivery row to the last ``sent``, every one delivered exactly once.

The three cases run ``--repeat`` times, interleaved; the verdicts use the median over the rounds
of each case's p95 and p99 (and of the delivery rate), since a single burst on a shared machine
varies by more than the effect measured.

Usage: python bench/notify.py [--jobs 1000] [--window 12] [--db sqlite|postgres] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import _common as c

PROBES = 20
MISFIRE_GRACE_SECONDS = 60
SEED_SECONDS_PER_JOB = {"sqlite": 0.006, "postgres": 0.02}
LATENESS_TARGET = 1.5
LATE_SECONDS = 0.1
"""A probe run later than this counts as delayed (the column that shows a cost outside the
burst's own seconds, which the percentiles, all inside the burst, would not)."""
RATE_TARGET = 200.0
CASES = ("baseline", "slow", "fast")


class Receiver:
    """A webhook receiver on 127.0.0.1 counting the deliveries it got (by deliveryId)."""

    def __init__(self, delay: float) -> None:
        received: dict[str, int] = {}
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                import json

                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(delay)
                key = json.loads(body).get("deliveryId") or "?"
                with lock:
                    received[key] = received.get(key, 0) + 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.request_queue_size = 256
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.received = received
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def scene(
    folder: Path, url: str, case: str, count: int, window: float, receiver: Receiver | None, backend: str
) -> dict[str, Any]:
    service = c.open_service(url)
    lead = 4.0 + count * SEED_SECONDS_PER_JOB[backend]
    t0 = float(int(time.time() + lead) + 1)
    try:
        for n in range(PROBES):
            start = c.iso_z(datetime.fromtimestamp(t0 - 3 + n / PROBES, UTC))  # probe n: slots at n * 50 ms
            service.create_job({"name": f"probe-{n:02d}", "taskFunctionId": 1, "jobTypeId": 1,
                                "scheduleConfig": {"seconds": 1, "start_date": start},
                                "taskArgs": {"command": "true"}})  # fmt: skip
        run_date = c.iso_z(datetime.fromtimestamp(t0, UTC))
        burst: set[str] = set()
        for n in range(count):
            burst.add(service.create_job({"name": f"fail-{n:04d}", "taskFunctionId": 1, "jobTypeId": 3,
                                "scheduleConfig": {"run_date": run_date}, "taskArgs": {"command": "false"}})["id"])  # fmt: skip
    finally:
        service.store.close()
    config = c.write_daemon_config(folder)
    grace = f"[scheduler]\nmisfire_grace_seconds = {MISFIRE_GRACE_SECONDS}\n"
    config.write_text(config.read_text().replace("[scheduler]\n", grace))
    if receiver is not None:
        with config.open("a") as text:
            text.write(
                f'\n[[notifiers]]\nname = "hook"\ntype = "webhook"\nurl = "{receiver.url}"\ntimeout = 10\n'
                '\n[notify]\ndefault = [{ notifier = "hook", on = ["failure"] }]\n'
            )
    jobctl = c.venv_bin(Path(sys.executable), "jobctl")
    daemon = c.Daemon(jobctl, url, config, folder, name=f"daemon-{case}")
    try:
        daemon.wait_started()
        c.wait_leader(url, daemon.pid)
        if time.time() > t0 - 0.5:
            raise c.BenchError("the daemon was ready too late for the burst; raise the lead time")
        time.sleep(max(0.0, t0 + window - time.time()))
        rate = deliveries_rate(url, count) if case == "fast" else None
    finally:
        daemon.stop()
    rows = c.execution_rows(url)
    begin, end = datetime.fromtimestamp(t0 - 1, UTC), datetime.fromtimestamp(t0 + window - 1, UTC)
    lateness = [
        (row["started_at"] - row["scheduled_for"]).total_seconds()
        for row in rows
        if row["job_id"] not in burst and row["scheduled_for"] is not None and row["started_at"] is not None
        and begin <= row["scheduled_for"] <= end
    ]  # fmt: skip
    failed = sum(1 for row in rows if row["job_id"] in burst and row["status"] == "failed")
    return {"case": case, "lateness": lateness, "failed": failed, "rate": rate, "problems": daemon.problems()}


def deliveries_rate(url: str, count: int, timeout: float = 120.0) -> dict[str, Any]:
    """Wait until ``count`` deliveries are sent; their rate from the first row to the last ``sent``."""
    from jobctl.store import open_store
    from jobctl.store.database import to_utc

    store = open_store(url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = int(store.db.scalar("SELECT COUNT(*) FROM notification_deliveries WHERE status = 'sent'"))
            if sent >= count:
                break
            time.sleep(0.2)
        first = to_utc(store.db.scalar("SELECT MIN(created_at) FROM notification_deliveries"))
        last = to_utc(store.db.scalar("SELECT MAX(sent_at) FROM notification_deliveries"))
        total = int(store.db.scalar("SELECT COUNT(*) FROM notification_deliveries"))
    finally:
        store.close()
    seconds = (last - first).total_seconds() if first and last else float("nan")
    return {"sent": sent, "rows": total, "seconds": seconds, "per_s": sent / seconds if seconds > 0 else 0.0}


@contextlib.contextmanager
def _database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "postgres":
        with c.pg_database("notify") as url:
            yield url
    else:
        yield c.sqlite_url(folder / "jobctl.db")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--window", type=float, default=12.0)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the three cases, interleaved")
    args = parser.parse_args()
    if args.db == "postgres" and not c.pg_available():
        raise c.BenchError("Postgres on 127.0.0.1:5432 is not reachable")
    c.print_header("Notifications: scheduling lateness under a slow receiver, delivery rate")
    rounds: list[dict[str, dict[str, Any]]] = []
    receivers = {"slow": Receiver(2.0), "fast": Receiver(0.0)}
    try:
        for n in range(args.repeat):
            results: dict[str, dict[str, Any]] = {}
            for case in CASES:
                c.log(f"round {n + 1}, {case} ({args.db}): {PROBES} probes every 1 s, {args.jobs} failures at once")
                with c.temp_dir(f"notify-{case}") as folder, _database(args.db, folder) as url:
                    results[case] = scene(folder, url, case, args.jobs, args.window, receivers.get(case), args.db)
            rounds.append(results)
    finally:
        for receiver in receivers.values():
            receiver.close()
    duplicates = sum(n - 1 for n in receivers["fast"].received.values() if n > 1)
    rows = []
    for n, results in enumerate(rounds, 1):
        base = results["baseline"]["lateness"]
        for case in CASES:
            lateness = results[case]["lateness"]
            p95, p99 = c.percentile(lateness, 95), c.percentile(lateness, 99)
            rows.append([
                n, case, len(lateness), results[case]["failed"], sum(1 for x in lateness if x > LATE_SECONDS),
                f"{1000 * c.percentile(lateness, 50):.0f}",
                f"{1000 * p95:.0f}", f"{1000 * p99:.0f}",
                c.ratio(p95, c.percentile(base, 95)), c.ratio(p99, c.percentile(base, 99)),
            ])  # fmt: skip
    medians = {
        case: {q: statistics.median(c.percentile(r[case]["lateness"], q) for r in rounds) for q in (95, 99)}
        for case in CASES
    }
    for case in CASES:
        m95, m99 = medians[case][95], medians[case][99]
        late = statistics.median(sum(1 for x in r[case]["lateness"] if x > LATE_SECONDS) for r in rounds)
        rows.append(["median", case, "", "", f"{late:g}", "", f"{1000 * m95:.0f}", f"{1000 * m99:.0f}",
                     c.ratio(m95, medians["baseline"][95]), c.ratio(m99, medians["baseline"][99])])  # fmt: skip
    print(c.md_table(["round", "case", "probe runs", "burst failed", "> 100 ms late", "p50 ms", "p95 ms", "p99 ms", "p95 vs base",
                      "p99 vs base"], rows))  # fmt: skip
    rates = [r["fast"]["rate"] or {} for r in rounds]
    print()
    print(c.md_table(
        ["round", "fast receiver", "deliveries", "rows", "seconds", "deliveries/s", "target"],
        [[n, "webhook, 127.0.0.1", rate.get("sent"), rate.get("rows"), c.fmt(rate.get("seconds"), 2),
          c.fmt(rate.get("per_s"), 0), f">= {RATE_TARGET:.0f}/s"] for n, rate in enumerate(rates, 1)],
    ))  # fmt: skip
    base95, base99 = max(medians["baseline"][95], 1e-3), max(medians["baseline"][99], 1e-3)
    lateness_ok = max(medians["slow"][95] / base95, medians["slow"][99] / base99) <= LATENESS_TARGET
    rate = statistics.median(r.get("per_s") or 0.0 for r in rates)
    rate_ok = rate >= RATE_TARGET
    problems = [p for results in rounds for r in results.values() for p in r["problems"] if "jobctl.runs:" not in p]
    for n, r in enumerate(rates, 1):
        if r.get("sent") != args.jobs:
            problems.append(f"fast receiver, round {n}: {r.get('sent')} sent of {args.jobs}")
    if duplicates:
        problems.append(f"fast receiver: {duplicates} deliveries received twice")
    print(f"\nduplicates at the fast receiver: {duplicates}")
    print(f"lateness under a 2 s receiver within {LATENESS_TARGET}x (median of {args.repeat} round(s)): "
          f"{'yes' if lateness_ok else 'NO'}; deliveries >= {RATE_TARGET:.0f}/s (median {rate:.0f}/s): "
          f"{'yes' if rate_ok else 'NO'}")  # fmt: skip
    for line in problems[:5]:
        print(f"- problem: {line[:200]}")
    c.save_results("notify", {
        "jobs": args.jobs, "window": args.window, "db": args.db, "repeat": args.repeat,
        "rounds": [{k: {"lateness_p50": c.percentile(v["lateness"], 50), "lateness_p95": c.percentile(v["lateness"], 95),
                        "lateness_p99": c.percentile(v["lateness"], 99), "failed": v["failed"], "rate": v["rate"]}
                    for k, v in results.items()} for results in rounds],
        "duplicates": duplicates, "problems": problems,
    })  # fmt: skip
    if problems:
        return c.EXIT_ERROR
    return 0 if lateness_ok and rate_ok else c.EXIT_TARGET_MISSED


if __name__ == "__main__":
    c.run_benchmark(main)
