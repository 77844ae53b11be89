"""``GET /metrics`` with 10,000 jobs: how long one scrape takes.

Target: one scrape of a daemon whose store holds 10,000 jobs takes <= 300 ms. Measured four
ways: the "first" scrape (sent the moment the daemon answers ``/healthz``: it may wait for the
rendering of every job that the daemon starts at once), "cold" scrapes (the 5 s cache waited out
and no rhythm to plan for, ``--changed`` jobs changed in the store since the previous scrape:
the store is read and those jobs rendered while the scraper waits), "periodic" scrapes (a steady
interval, as Prometheus scrapes: the daemon refreshes the store's figures ahead of each one),
and "warm" scrapes (back to back, served from the cache).

A SQLite store gets ``--jobs`` hourly jobs through the service and ``--history`` executions per
job (successes, a failure in every fifth job, a timeout, a skipped slot or a missed range in a
few: see :func:`history_statuses`), written straight into the executions table. A real ``jobctl daemon`` serves the API on 127.0.0.1; each cold scrape
waits out the cache first. Peers in the same run: ``GET /healthz`` on the same daemon (the HTTP
floor), and ``prometheus_client`` rendering the same number of constant samples in this process
(the library's own floor for that much text).

Usage: python bench/metrics.py [--jobs 10000] [--history 20] [--first-only] [--cold 5] [--changed 100] [--warm 20]
       [--periodic 6] [--every 10]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import _common as c


def history_statuses(n: int, history: int, rng: random.Random) -> list[str]:
    """A job's executions, oldest first: successes, with a failure in every fifth job, a timeout in
    every twentieth, a skipped slot in every twentieth and a missed range in every fiftieth."""
    statuses = ["success"] * history
    for every, status in ((5, "failed"), (20, "timeout"), (20, "skipped"), (50, "missed")):
        if n % every == every - 1:
            statuses[rng.randrange(history)] = status
    return statuses


def seed(url: str, jobs: int, history: int) -> tuple[str, int]:
    """Jobs through the service, executions straight into the table; a viewer token."""
    from jobctl.service.tokens import create_token

    service = c.open_service(url)
    store = service.store
    now = datetime.now(UTC)
    ids = []
    for n in range(jobs):
        job = service.create_job({"name": f"job-{n:05d}", "taskFunctionId": 1, "jobTypeId": 1,
                                  "scheduleConfig": {"hours": 1}, "taskArgs": {"command": "true"}})  # fmt: skip
        ids.append(job["id"])
    rows: list[dict[str, Any]] = []
    rng = random.Random(14)
    for n, job_id in enumerate(ids):
        for k, status in enumerate(history_statuses(n, history, rng)):
            slot = now - timedelta(hours=history - k)
            ran = status not in ("skipped", "missed")
            rows.append({
                "id": str(uuid.uuid4()), "job_id": job_id, "status": status, "triggered_by": "scheduler",
                "scheduled_for": slot, "started_at": slot if ran else None,
                "completed_at": slot + timedelta(seconds=2) if ran else slot, "duration": 2.0 if ran else None,
                "created_at": slot, "missed_count": 3 if status == "missed" else None,
            })  # fmt: skip
    with store.transaction():
        store.db.execute_many(
            """INSERT INTO executions (id, job_id, status, triggered_by, scheduled_for, started_at, completed_at,
                   duration_seconds, created_at, attempt, missed_count)
               VALUES (:id, :job_id, :status, :triggered_by, :scheduled_for, :started_at, :completed_at,
                   :duration, :created_at, 1, :missed_count)""",
            rows,
        )
        store.db.execute(
            """UPDATE jobs SET last_run_time = (SELECT MAX(started_at) FROM executions e WHERE e.job_id = jobs.id),
                   last_status = 'success'"""
        )
    token, _ = create_token(store, "bench", "viewer")
    store.close()
    return token, len(rows)


def change_jobs(url: str, count: int, round_: int) -> None:
    """A finished run of ``count`` jobs, as the store records one: the job's last run moves on and
    a success is added to its executions (what a busy minute of a real store looks like)."""
    from jobctl.store import open_store

    store = open_store(url)
    try:
        rows = store.db.fetch_all("SELECT id FROM jobs ORDER BY name LIMIT :count OFFSET :offset",
                                  {"count": count, "offset": (round_ * count) % 9_000})  # fmt: skip
        now = datetime.now(UTC)
        with store.transaction():
            for row in rows:
                store.db.execute(
                    """INSERT INTO executions (id, job_id, status, triggered_by, scheduled_for, started_at,
                           completed_at, duration_seconds, created_at, attempt)
                       VALUES (:id, :job_id, 'success', 'scheduler', :at, :at, :at, 0.5, :at, 1)""",
                    {"id": str(uuid.uuid4()), "job_id": row["id"], "at": now},
                )
                store.db.execute("UPDATE jobs SET last_run_time = :at, last_status = 'success' WHERE id = :id",
                                 {"at": now, "id": row["id"]})  # fmt: skip
    finally:
        store.close()


def scrape(client: Any, path: str) -> tuple[float, bytes]:
    begun = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - begun) * 1000
    if response.status_code != 200:
        raise c.BenchError(f"{path} answered {response.status_code}: {response.text[:200]}")
    return elapsed, response.content


def in_process(url: str, changed: int, samples: int, rounds: int = 5) -> dict[str, list[float]]:
    """The store's part refreshed in this process (no HTTP, no scheduler beside it), in alternating
    rounds with the library floor: the first full rendering, then refreshes after ``changed`` jobs
    changed, and after none. Times in ms."""
    from jobctl.daemon.metrics import daemon_exposition
    from jobctl.scheduler.stats import SchedulerStats
    from jobctl.store import open_store

    store = open_store(url)
    times: dict[str, list[float]] = {"full": [], "changed": [], "unchanged": [], "floor": []}
    try:
        exposition = daemon_exposition(store, SchedulerStats(), lambda: True)
        exposition.max_age, exposition.plan_ahead = 0.0, False
        begun = time.perf_counter()
        exposition.render()
        times["full"].append((time.perf_counter() - begun) * 1000)
        for n in range(rounds):
            change_jobs(url, changed, 100 + n)
            begun = time.perf_counter()
            exposition.render()
            times["changed"].append((time.perf_counter() - begun) * 1000)
            if exposition.jobs_rendered != changed:
                raise c.BenchError(f"{exposition.jobs_rendered} jobs were rendered anew, not {changed}")
            begun = time.perf_counter()
            exposition.render()
            times["unchanged"].append((time.perf_counter() - begun) * 1000)
            times["floor"].append(library_floor(samples, rounds=1))
    finally:
        store.close()
    return times


def library_floor(samples: int, rounds: int = 5) -> float:
    """prometheus_client rendering ``samples`` constant gauge samples with a ``job`` label, ms."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily

    class Constant:
        def collect(self) -> Any:
            family = GaugeMetricFamily("bench_constant", "constant samples", labels=["job"])
            for n in range(samples):
                family.add_metric([f"job-{n:05d}"], float(n))
            yield family

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Constant())
    times = []
    for _ in range(rounds):
        begun = time.perf_counter()
        generate_latest(registry)
        times.append((time.perf_counter() - begun) * 1000)
    return c.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=20)
    parser.add_argument("--first-only", action="store_true", help="only the first scrape after a start")
    parser.add_argument("--cold", type=int, default=5)
    parser.add_argument("--changed", type=int, default=100, help="jobs changed in the store before each cold scrape")
    parser.add_argument("--warm", type=int, default=20)
    parser.add_argument("--periodic", type=int, default=6, help="scrapes at a steady interval, after two to learn it")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between periodic scrapes")
    args = parser.parse_args()
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    with c.temp_dir("jobctl-bench-metrics-") as folder:
        url = c.sqlite_url(folder / "jobctl.db")
        c.log(f"seeding {args.jobs} jobs and {args.history} executions each")
        token, executions = seed(url, args.jobs, args.history)
        port = _free_port()
        log_file = (folder / "daemon.log").open("wb")
        started = time.perf_counter()
        daemon = c.spawn([str(c.venv_bin(Path(sys.executable), "jobctl")), "--db", url, "daemon", "--port", str(port)],
                         env=c.run_env(), stderr=log_file)  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            _wait(client)
            up = (time.perf_counter() - started) * 1000
            first, text = scrape(client, "/metrics")
            cold, warm, health = [], [], []
            for n in range(0 if args.first_only else args.cold):
                c.log(f"cold scrape {n + 1}/{args.cold} (waiting out the 5 s cache, irregularly: nothing to plan for; "
                      f"{args.changed} jobs changed)")  # fmt: skip
                time.sleep(5.5 + 4 * n)
                change_jobs(url, args.changed, n)
                elapsed, text = scrape(client, "/metrics")
                cold.append(elapsed)
            for _ in range(0 if args.first_only else args.warm):
                warm.append(scrape(client, "/metrics")[0])
                health.append(scrape(client, "/healthz")[0])
            periodic: list[float] = []
            rounds = 0 if args.first_only else args.periodic + 2
            c.log(f"{rounds} scrapes every {args.every:g} s (the first two teach the daemon the interval)")
            start = time.monotonic()
            for n in range(rounds):  # at fixed moments, as Prometheus does, whatever each scrape took
                time.sleep(max(0.0, start + (n + 1) * args.every - time.monotonic()))
                elapsed = scrape(client, "/metrics")[0]
                if n >= 2:
                    periodic.append(elapsed)
        c.stop(daemon)
        log_file.close()
        families = {family.name: family for family in text_string_to_metric_families(text.decode())}
        jobs_seen = {sample.labels["job"] for sample in families["jobctl_job_last_run_timestamp_seconds"].samples}
        if len(jobs_seen) != args.jobs:
            raise c.BenchError(f"the scrape reported {len(jobs_seen)} jobs, not {args.jobs}")
        samples = sum(len(family.samples) for family in families.values())
        c.log("the store's part refreshed in process, alternating with the library floor")
        local = in_process(url, args.changed, samples) if not args.first_only else {}

    floor = library_floor(samples)
    load = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    c.print_header("GET /metrics (bench/metrics.py)")
    rows = [
        [
            f"first scrape, sent when /healthz first answered ({up:,.0f} ms after the start): "
            f"{args.jobs:,} jobs, {executions:,} executions, SQLite",
            c.fmt(first),
            c.fmt(first),
            c.ratio(first, floor),
        ]
    ]
    if not args.first_only:
        rows += [
            [f"cold scrape: cache waited out off-rhythm, {args.changed} jobs changed since the previous one",
             c.fmt(c.median(cold)), c.fmt(max(cold)), c.ratio(c.median(cold), floor)],
            [f"periodic scrape every {args.every:g} s (store figures refreshed ahead)", c.fmt(c.median(periodic)),
             c.fmt(max(periodic)), c.ratio(c.median(periodic), floor)],
            ["warm scrape (store figures cached, < 5 s old)", c.fmt(c.median(warm)), c.fmt(max(warm)),
             c.ratio(c.median(warm), floor)],
            ["GET /healthz on the same daemon", c.fmt(c.median(health)), c.fmt(max(health)), ""],
        ]  # fmt: skip
    rows.append(
        [f"floor: prometheus_client rendering {samples:,} constant samples, in process", c.fmt(floor), "", "1.00x"]
    )
    if local:
        local_floor = c.median(local["floor"])
        rows += [
            ["in process: the first rendering of every job", c.fmt(local["full"][0]), "", c.ratio(local["full"][0], local_floor)],
            [f"in process: a refresh with {args.changed} jobs changed", c.fmt(c.median(local["changed"])),
             c.fmt(max(local["changed"])), c.ratio(c.median(local["changed"]), local_floor)],
            ["in process: a refresh with nothing changed", c.fmt(c.median(local["unchanged"])),
             c.fmt(max(local["unchanged"])), c.ratio(c.median(local["unchanged"]), local_floor)],
            ["in process: the floor, once per round between the refreshes", c.fmt(local_floor), c.fmt(max(local["floor"])),
             "1.00x"],
        ]  # fmt: skip
    print(c.md_table(["what", "p50 ms", "max ms", "vs prometheus_client floor"], rows))
    print()
    print(f"- {samples:,} samples, {len(text) / 1e6:.1f} MB of text per scrape; load average at the end {load}")
    met = True
    if not args.first_only:
        met = max(cold) <= 300 and max(periodic) <= 300
        print(
            f"- Target one scrape with {args.jobs:,} jobs <= 300 ms: cold max {max(cold):.0f} ms, periodic max "
            f"{max(periodic):.0f} ms -> {'MET' if met else 'MISSED'} (the first scrape after a start: {first:.0f} ms)"
        )
    c.save_results("metrics", {"first_ms": first, "up_ms": up, "cold_ms": cold, "warm_ms": warm, "periodic_ms": periodic,
                               "healthz_ms": health, "floor_ms": floor, "samples": samples, "bytes": len(text),
                               "load": os.getloadavg(), "in_process_ms": local})  # fmt: skip
    return 0 if met else c.EXIT_TARGET_MISSED


def _wait(client: Any, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise c.BenchError("the daemon did not answer")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    c.run_benchmark(main)
