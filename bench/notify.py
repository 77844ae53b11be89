"""Notifications never at the cost of scheduling: lateness of other jobs while 1,000 failures are
notified to a receiver that answers in 2 s, and deliveries per second to a fast receiver.

Three runs of the same scene on SQLite, each with a fresh store and daemon: 20 probe jobs run
``true`` every second, and 1,000 one-shot jobs run ``false`` at one instant (a burst of 1,000
failures). The probes' lateness (process start minus slot) over the window is compared:

- baseline: no notifier;
- slow: every failure is notified (``[notify] default``) to a webhook on 127.0.0.1 that answers
  after 2 s; target: the probes' p95 and p99 lateness at most 1.5x the baseline's;
- fast: the same to a webhook that answers at once; target: >= 200 deliveries/s, from the
  first delivery row to the last ``sent``, every one delivered exactly once.

Usage: python bench/notify.py [--jobs 1000] [--window 12]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import _common as c

PROBES = 20
LATENESS_TARGET = 1.5
RATE_TARGET = 200.0


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


def scene(folder: Path, case: str, count: int, window: float, receiver: Receiver | None) -> dict[str, Any]:
    url = c.sqlite_url(folder / "jobctl.db")
    service = c.open_service(url)
    lead = 4.0 + count * 0.001
    t0 = float(int(time.time() + lead) + 1)
    try:
        for n in range(PROBES):
            service.create_job({"name": f"probe-{n:02d}", "taskFunctionId": 1, "jobTypeId": 1,
                                "scheduleConfig": {"seconds": 1}, "taskArgs": {"command": "true"}})  # fmt: skip
        run_date = c.iso_z(datetime.fromtimestamp(t0, UTC))
        for n in range(count):
            service.create_job({"name": f"fail-{n:04d}", "taskFunctionId": 1, "jobTypeId": 3,
                                "scheduleConfig": {"run_date": run_date}, "taskArgs": {"command": "false"}})  # fmt: skip
    finally:
        service.store.close()
    config = c.write_daemon_config(folder)
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
    failing = {row["job_id"] for row in rows if row["scheduled_for"] == datetime.fromtimestamp(t0, UTC)}
    lateness = [
        (row["started_at"] - row["scheduled_for"]).total_seconds()
        for row in rows
        if row["job_id"] not in failing and row["scheduled_for"] is not None and row["started_at"] is not None
        and begin <= row["scheduled_for"] <= end
    ]  # fmt: skip
    failed = sum(1 for row in rows if row["job_id"] in failing and row["status"] == "failed")
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--window", type=float, default=12.0)
    args = parser.parse_args()
    c.print_header("Notifications: scheduling lateness under a slow receiver, delivery rate")
    results: dict[str, dict[str, Any]] = {}
    receivers = {"slow": Receiver(2.0), "fast": Receiver(0.0)}
    try:
        for case in ("baseline", "slow", "fast"):
            c.log(f"{case}: {PROBES} probes every 1 s, {args.jobs} failures at one instant")
            with c.temp_dir(f"notify-{case}") as folder:
                results[case] = scene(folder, case, args.jobs, args.window, receivers.get(case))
    finally:
        for receiver in receivers.values():
            receiver.close()
    fast_received = receivers["fast"].received
    duplicates = sum(n - 1 for n in fast_received.values() if n > 1)
    base = results["baseline"]["lateness"]
    rows = []
    for case in ("baseline", "slow", "fast"):
        lateness = results[case]["lateness"]
        p95, p99 = c.percentile(lateness, 95), c.percentile(lateness, 99)
        rows.append([
            case, len(lateness), results[case]["failed"], f"{1000 * c.percentile(lateness, 50):.0f}",
            f"{1000 * p95:.0f}", f"{1000 * p99:.0f}",
            c.ratio(p95, c.percentile(base, 95)), c.ratio(p99, c.percentile(base, 99)),
        ])  # fmt: skip
    print(c.md_table(["case", "probe runs", "burst failed", "p50 ms", "p95 ms", "p99 ms", "p95 vs base",
                      "p99 vs base"], rows))  # fmt: skip
    rate = results["fast"]["rate"] or {}
    print()
    print(c.md_table(
        ["fast receiver", "deliveries", "rows", "seconds", "deliveries/s", "target", "duplicates"],
        [["webhook, 127.0.0.1", rate.get("sent"), rate.get("rows"), c.fmt(rate.get("seconds"), 2),
          c.fmt(rate.get("per_s"), 0), f">= {RATE_TARGET:.0f}/s", duplicates]],
    ))  # fmt: skip
    slow = results["slow"]["lateness"]
    lateness_ok = max(c.percentile(slow, 95) / max(c.percentile(base, 95), 1e-3),
                      c.percentile(slow, 99) / max(c.percentile(base, 99), 1e-3)) <= LATENESS_TARGET  # fmt: skip
    rate_ok = (rate.get("per_s") or 0) >= RATE_TARGET
    problems = [p for r in results.values() for p in r["problems"] if "jobctl.runs:" not in p]
    if duplicates or rate.get("sent") != args.jobs:
        problems.append(f"fast receiver: {rate.get('sent')} sent of {args.jobs}, {duplicates} received twice")
    print(f"\nlateness under a 2 s receiver within {LATENESS_TARGET}x: {'yes' if lateness_ok else 'NO'}; "
          f"deliveries >= {RATE_TARGET:.0f}/s: {'yes' if rate_ok else 'NO'}")  # fmt: skip
    for line in problems[:5]:
        print(f"- problem: {line[:200]}")
    c.save_results("notify", {
        "jobs": args.jobs, "window": args.window,
        "cases": {k: {"lateness_p50": c.percentile(v["lateness"], 50), "lateness_p95": c.percentile(v["lateness"], 95),
                      "lateness_p99": c.percentile(v["lateness"], 99), "failed": v["failed"], "rate": v["rate"]}
                  for k, v in results.items()},
        "duplicates": duplicates, "problems": problems,
    })  # fmt: skip
    if problems:
        return c.EXIT_ERROR
    return 0 if lateness_ok and rate_ok else c.EXIT_TARGET_MISSED


if __name__ == "__main__":
    c.run_benchmark(main)
