"""Figures at scale: a store of many jobs and millions of executions, seeded by bulk inserts.

Seeds ``--jobs`` hourly jobs (next run 1-2 h away, so nothing runs while measuring) and
``--executions`` executions (spread over the last ``--days`` days, 90 % success, 8 % failed,
2 % timeout; 5 % with 200 characters of output) straight into the tables (SQLite:
``executemany`` in large transactions; Postgres: ``COPY``), not through the service. Then, on
each backend:

- store size per 1,000,000 executions (SQLite file with WAL; Postgres tables with indexes);
- CLI wall time (median of 3 runs, a real ``jobctl`` subprocess): ``jobs list --json`` first page,
  ``jobs list --json --all`` (on the store, and through a daemon's API with ``--api``; the
  number of jobs printed is checked), ``executions list --job X --json``, ``executions list
  --status failed --json``; peer: ``jobctl --help`` (the CLI's start-up, paid by every command),
  with the load average before and after;
- the daemon: start-up to leader, idle CPU and RSS over ``--idle`` seconds; ``GET
  /executions?job_id=...&per_page=100`` latency (200 requests, p50/p99) with ``GET /healthz`` as
  the peer;
- ``jobctl store prune`` of the executions older than ``--keep-days``: rows/s;
- ``EXPLAIN`` of the listing queries (printed; copied to docs/scale-query-plans.md).

``--lateness`` measures the prune-backlog benchmark instead: a daemon running ``--lateness-jobs``
jobs every second for ``--window`` seconds on a store without a backlog, then the same with
``--backlog`` expired executions that its pruner removes meanwhile; lateness p99 of both, and
the ratio (target: <= 1.5).

``--only-jobs`` measures the jobs listing alone (its figures and query plans).

Usage:
  python bench/scale.py [--jobs 100000] [--executions 1000000] [--backends sqlite,postgres]
  python bench/scale.py --only-jobs --executions 100000
  python bench/scale.py --lateness [--backlog 1000000] [--window 60] [--backends sqlite]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import _common as c

TARGETS = {
    "jobs_first_page_s": 0.2, "jobs_all_s": 5.0, "executions_job_s": 0.2, "executions_failed_s": 0.2,
    "api_p99_ms": 50.0, "sqlite_gb_per_m": 1.0, "postgres_gb_per_m": 1.5, "prune_rows_s": 20_000,
    "leader_s": 3.0, "idle_cpu": 0.01, "idle_rss_mb": 250.0, "lateness_ratio": 1.5,
}  # fmt: skip
BATCH = 20_000


# -- seeding -----------------------------------------------------------------------------------


def job_rows(count: int, now: datetime) -> list[tuple[Any, ...]]:
    rows = []
    for n in range(count):
        due = now + timedelta(hours=1, seconds=3600 * n / max(count, 1))
        rows.append((str(uuid.uuid4()), f"job-{n:06d}", 1, 1, '{"hours": 1}', '{"command": "true"}', due, due,
                     now - timedelta(days=400), now - timedelta(days=400)))  # fmt: skip
    return rows


def execution_batches(job_ids: list[str], count: int, now: datetime, days: float, seed: int = 7) -> Any:
    """Batches of (execution row, output or None); created_at spread evenly over ``days``, oldest first."""
    rng = random.Random(seed)
    span = days * 86400
    batch: list[tuple[tuple[Any, ...], str | None]] = []
    for n in range(count):
        at = now - timedelta(seconds=span * (1 - n / count))
        roll = rng.random()
        status = "success" if roll < 0.90 else "failed" if roll < 0.98 else "timeout"
        error = None if status == "success" else f"exit code 1: {status}"
        row = (str(uuid.uuid4()), job_ids[n % len(job_ids)], status, at, 1, at, at, 0.2, '{"exitCode": 0}', error,
               "scheduler", at)  # fmt: skip
        batch.append((row, "x" * 200 if rng.random() < 0.05 else None))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


JOB_COLUMNS = "id, name, task_function_id, job_type_id, schedule_config, task_args, next_run_time, next_slot, created_at, updated_at"
EXEC_COLUMNS = ("id, job_id, status, scheduled_for, attempt, started_at, completed_at, duration_seconds, result, "
                "error_message, triggered_by, created_at")  # fmt: skip


def seed(url: str, jobs: int, executions: int, days: float) -> dict[str, Any]:
    from jobctl.store import open_store

    open_store(url).close()  # the schema at head
    now = datetime.now(UTC)
    begin = time.perf_counter()
    rows = job_rows(jobs, now)
    job_ids = [row[0] for row in rows]
    if url.startswith("sqlite"):
        _seed_sqlite(Path(url.removeprefix("sqlite:///")), rows, job_ids, executions, now, days)
    else:
        _seed_postgres(url, rows, job_ids, executions, now, days)
    return {"seconds": time.perf_counter() - begin, "job_ids": job_ids}


def _sqlite_time(value: Any) -> Any:
    from jobctl.store.database import format_sqlite_time

    return format_sqlite_time(value) if isinstance(value, datetime) else value


def _seed_sqlite(path: Path, jobs: list[tuple[Any, ...]], job_ids: list[str], count: int, now: datetime,
                 days: float) -> None:  # fmt: skip
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO jobs ({JOB_COLUMNS}) VALUES ({', '.join('?' * 10)})",
                     [tuple(_sqlite_time(v) for v in row) for row in jobs])  # fmt: skip
    conn.execute("COMMIT")
    done = 0
    for batch in execution_batches(job_ids, count, now, days):
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO executions ({EXEC_COLUMNS}) VALUES ({', '.join('?' * 12)})",
                         [tuple(_sqlite_time(v) for v in row) for row, _ in batch])  # fmt: skip
        conn.executemany("INSERT INTO execution_output (execution_id, start_offset, data) VALUES (?, 0, ?)",
                         [(row[0], out) for row, out in batch if out])  # fmt: skip
        conn.execute("COMMIT")
        done += len(batch)
        if done % 500_000 < BATCH:
            c.log(f"  sqlite: {done:,} executions")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _seed_postgres(url: str, jobs: list[tuple[Any, ...]], job_ids: list[str], count: int, now: datetime,
                   days: float) -> None:  # fmt: skip
    import psycopg

    from jobctl.store.url import parse_store_url

    info = parse_store_url(url).pg_conninfo or {}
    with psycopg.connect(**info) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY jobs ({JOB_COLUMNS}) FROM STDIN") as copy:
            for row in jobs:
                copy.write_row(row)
        conn.commit()
        done = 0
        for batch in execution_batches(job_ids, count, now, days):
            with conn.cursor() as cur:
                with cur.copy(f"COPY executions ({EXEC_COLUMNS}) FROM STDIN") as copy:
                    for row, _ in batch:
                        copy.write_row(row)
                with cur.copy("COPY execution_output (execution_id, start_offset, data) FROM STDIN") as copy:
                    for row, out in batch:
                        if out:
                            copy.write_row((row[0], 0, out))
            conn.commit()
            done += len(batch)
            if done % 500_000 < BATCH:
                c.log(f"  postgres: {done:,} executions")
        conn.execute("ANALYZE")


# -- measuring ---------------------------------------------------------------------------------


def store_bytes(url: str) -> int:
    from jobctl.store import open_store
    from jobctl.store.maintenance import store_size

    store = open_store(url)
    try:
        return store_size(store.db)
    finally:
        store.close()


def cli_seconds(jobctl: Path, url: str, config: Path, *args: str, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        begin = time.perf_counter()
        done = subprocess.run([str(jobctl), "--db", url, "--config", str(config), *args], capture_output=True,
                              env=c.run_env(), timeout=600)  # fmt: skip
        times.append(time.perf_counter() - begin)
        if done.returncode != 0:
            raise c.BenchError(f"jobctl {' '.join(args)} failed: {done.stderr.decode()[-500:]}")
    return c.median(times)


def plans(url: str, job_id: str) -> dict[str, list[str]]:
    from jobctl.store import open_store

    queries = {
        "executions --job X (first page)": ("SELECT * FROM executions WHERE job_id = :j "
                                            "ORDER BY created_at DESC, id DESC LIMIT 51"),
        "executions --status failed (first page)": ("SELECT * FROM executions WHERE status = 'failed' "
                                                    "ORDER BY created_at DESC, id DESC LIMIT 51"),
        "count --status failed": "SELECT COUNT(*) FROM executions WHERE status = 'failed'",
        "expired executions (prune)": ("SELECT id FROM executions WHERE created_at < :t AND status NOT IN "
                                       "('pending', 'running') ORDER BY created_at LIMIT 200"),
    }  # fmt: skip
    store = open_store(url)
    found = {}
    try:
        for name, sql in queries.items():
            params = {"j": job_id, "t": datetime.now(UTC) - timedelta(days=90)}
            if store.db.is_sqlite:
                rows = store.db.fetch_all("EXPLAIN QUERY PLAN " + sql, params)
                found[name] = [str(row["detail"]) for row in rows]
            else:
                rows = store.db.fetch_all("EXPLAIN " + sql, params)
                found[name] = [str(next(iter(row.values()))) for row in rows]
    finally:
        store.close()
    return found


def jobctl_seconds(jobctl: Path, *args: str, runs: int = 3) -> tuple[float, bytes]:
    """Median wall time of ``jobctl ARGS`` and the last run's stdout."""
    times, out = [], b""
    for _ in range(runs):
        begin = time.perf_counter()
        done = subprocess.run([str(jobctl), *args], capture_output=True, env=c.run_env(), timeout=600)
        times.append(time.perf_counter() - begin)
        if done.returncode != 0:
            raise c.BenchError(f"jobctl {' '.join(args)} failed: {done.stderr.decode()[-500:]}")
        out = done.stdout
    return c.median(times), out


def jobs_figures(jobctl: Path, url: str, config: Path, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The jobs listing: first page and ``--json --all``, on the store and through a daemon's API
    (``--api``), next to ``jobctl --help``; ``--all`` must print every job once."""
    from jobctl.service.tokens import create_token
    from jobctl.store import open_store

    store_args = ["--db", url, "--config", str(config)]
    figures: dict[str, Any] = {"load_before": os.getloadavg()[0],
                               "help_s": jobctl_seconds(jobctl, *store_args, "--help")[0],
                               "jobs_first_page_s": jobctl_seconds(jobctl, *store_args, *FIRST_PAGE)[0]}  # fmt: skip
    if args.no_jobs_all:
        return {**figures, "jobs_all_s": math.nan, "jobs_all_api_s": math.nan, "load_after": os.getloadavg()[0]}
    figures["jobs_all_s"], out = jobctl_seconds(jobctl, *store_args, *EVERY_JOB, runs=1)
    _check_every_job(out, args.jobs)
    store = open_store(url)
    token, _ = create_token(store, f"bench-{uuid.uuid4().hex[:6]}", "viewer")
    store.close()
    port = free_port()
    daemon = c.Daemon(jobctl, url, history_config(folder, args.keep_days), folder, api=True, port=port, name="jobs")
    try:
        daemon.wait_started(timeout=120)
        api_args = ["--api", f"http://127.0.0.1:{port}", "--token", token, "--config", str(config)]
        figures["jobs_first_page_api_s"] = jobctl_seconds(jobctl, *api_args, *FIRST_PAGE)[0]
        figures["jobs_all_api_s"], out = jobctl_seconds(jobctl, *api_args, *EVERY_JOB, runs=1)
    finally:
        daemon.stop()
    _check_every_job(out, args.jobs)
    figures["load_after"] = os.getloadavg()[0]
    return figures


FIRST_PAGE = ("jobs", "list", "--json", "--per-page", "20")
EVERY_JOB = ("jobs", "list", "--json", "--all")


def _check_every_job(out: bytes, count: int) -> None:
    listed = [job["id"] for job in json.loads(out)["jobs"]]
    if len(listed) != count or len(set(listed)) != count:
        raise c.BenchError(f"jobs list --json --all printed {len(listed):,} jobs ({len(set(listed)):,} distinct), "
                           f"not the {count:,} seeded")  # fmt: skip


def job_plans(url: str) -> dict[str, list[str]]:
    """``EXPLAIN`` of the jobs listing's queries: first page, a page after a cursor, the counts."""
    from jobctl.store import open_store
    from jobctl.store.jobs import JobFilter

    store = open_store(url)
    try:
        middle = store.db.fetch_one("SELECT created_at, id FROM jobs ORDER BY created_at, id LIMIT 1 OFFSET "
                                    "(SELECT COUNT(*) / 2 FROM jobs)")  # fmt: skip
        assert middle is not None
        params = {"at": middle["created_at"], "id": middle["id"], "no": False, "running": "running"}
        queries = {
            "jobs first page": "SELECT j.* FROM jobs j ORDER BY j.created_at, j.id LIMIT 21 OFFSET 0",
            "jobs page after a cursor": ("SELECT j.* FROM jobs j WHERE (j.created_at, j.id) > (:at, :id) "
                                         "ORDER BY j.created_at, j.id LIMIT 101 OFFSET 0"),
            "jobs page after a cursor, written with OR": (
                "SELECT j.* FROM jobs j WHERE (j.created_at > :at OR (j.created_at = :at AND j.id > :id)) "
                "ORDER BY j.created_at, j.id LIMIT 101 OFFSET 0"),
            "jobs counts (total, disabled, running)": (
                "SELECT (SELECT COUNT(*) FROM jobs j) AS total, "
                "(SELECT COUNT(*) FROM jobs j WHERE j.is_enabled = :no) AS disabled, "
                "(SELECT COUNT(DISTINCT e.job_id) FROM executions e JOIN jobs j ON j.id = e.job_id "
                "WHERE e.status = :running) AS running"),
        }  # fmt: skip
        found = {}
        for name, sql in queries.items():
            if store.db.is_sqlite:
                found[name] = [str(row["detail"]) for row in store.db.fetch_all("EXPLAIN QUERY PLAN " + sql, params)]
            else:
                rows = store.db.fetch_all("EXPLAIN " + sql, params)
                found[name] = [str(next(iter(row.values()))) for row in rows]
        found["jobs counts, in-process, median of 5"] = [
            f"now {_median_ms(lambda: store.jobs.counts(JobFilter())):.2f} ms; the query before migration 0023 "
            f"(peer: sum over every row, running jobs matched against every job's id) "
            f"{_median_ms(lambda: store.db.fetch_one(COUNTS_BEFORE, {'running': 'running'})):.2f} ms"
        ]
    finally:
        store.close()
    return found


COUNTS_BEFORE = """
    SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN j.is_enabled THEN 1 ELSE 0 END), 0) AS enabled,
           (SELECT COUNT(DISTINCT e.job_id) FROM executions e WHERE e.status = :running
            AND e.job_id IN (SELECT j.id FROM jobs j)) AS running
    FROM jobs j
"""


def _median_ms(call: Any, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        begin = time.perf_counter()
        call()
        times.append((time.perf_counter() - begin) * 1000)
    return c.median(times)


def api_latency(port: int, token: str, job_id: str, requests: int = 200) -> dict[str, float]:
    def timed(path: str) -> float:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"})
        begin = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()
        return (time.perf_counter() - begin) * 1000

    listing = [timed(f"/api/v1/scheduler/executions?job_id={job_id}&per_page=100") for _ in range(requests)]
    health = [timed("/healthz") for _ in range(requests)]
    return {"p50_ms": c.percentile(listing, 50), "p99_ms": c.percentile(listing, 99),
            "health_p99_ms": c.percentile(health, 99)}  # fmt: skip


def daemon_figures(jobctl: Path, url: str, folder: Path, job_id: str, idle: float, keep_days: int) -> dict[str, Any]:
    from jobctl.service.tokens import create_token
    from jobctl.store import open_store

    store = open_store(url)
    token, _ = create_token(store, f"bench-{uuid.uuid4().hex[:6]}", "viewer")
    store.close()
    port = free_port()
    config = history_config(folder, keep_days)
    daemon = c.Daemon(jobctl, url, config, folder, api=True, port=port, name="scale")
    try:
        leader = daemon.wait_started(timeout=120)
        time.sleep(2)
        cpu0, t0 = c.cpu_seconds(daemon.pid), time.monotonic()
        time.sleep(idle)
        cpu = (c.cpu_seconds(daemon.pid) - cpu0) / (time.monotonic() - t0)
        rss = c.rss_mb(daemon.pid)
        latency = api_latency(port, token, job_id)
    finally:
        daemon.stop()
    return {"leader_s": leader, "idle_cpu": cpu, "idle_rss_mb": rss, **latency}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def history_config(folder: Path, keep_days: int) -> Path:
    """The daemon's config with ``[history] keep_days``: the prune measured and the daemon share it,
    so the daemon's own pruner finds nothing left while its idle figures are taken."""
    config = c.write_daemon_config(folder)
    config.write_text(config.read_text() + f"\n[history]\nkeep_days = {keep_days}\n")
    return config


def prune_figures(jobctl: Path, url: str, folder: Path, keep_days: int) -> dict[str, Any]:
    config = history_config(folder, keep_days)
    begin = time.perf_counter()
    done = subprocess.run([str(jobctl), "--db", url, "--config", str(config), "store", "prune", "--json"],
                          capture_output=True, env=c.run_env(), timeout=7200)  # fmt: skip
    seconds = time.perf_counter() - begin
    if done.returncode != 0:
        raise c.BenchError(f"store prune failed: {done.stderr.decode()[-500:]}")
    report = json.loads(done.stdout)
    return {"rows": report["total"], "seconds": seconds, "rows_s": report["total"] / seconds,
            "pages_released": report["pagesReleased"]}  # fmt: skip


def measure(backend: str, url: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    jobctl = c.venv_bin(c.jobctl_venv(), "jobctl")
    c.log(f"{backend}: seeding {args.jobs:,} jobs and {args.executions:,} executions")
    seeded = seed(url, args.jobs, args.executions, args.days)
    size = store_bytes(url)
    job_id = seeded["job_ids"][len(seeded["job_ids"]) // 2]
    config = folder / "plain.toml"
    config.write_text('[scheduler]\ntimezone = "UTC"\n')
    c.log(f"{backend}: seeded in {seeded['seconds']:.0f}s, {size / 1e6:.0f} MB; CLI listings")
    figures: dict[str, Any] = {
        "seed_s": seeded["seconds"], "size_bytes": size, "gb_per_m": size / 1e9 / (args.executions / 1e6),
        **jobs_figures(jobctl, url, config, folder, args),
    }  # fmt: skip
    if args.only_jobs:
        figures["plans"] = job_plans(url)
        return figures
    figures |= {
        "executions_job_s": cli_seconds(jobctl, url, config, "executions", "list", "--job", job_id, "--json"),
        "executions_failed_s": cli_seconds(jobctl, url, config, "executions", "list", "--status", "failed", "--json"),
    }  # fmt: skip
    figures["plans"] = {**plans(url, job_id), **job_plans(url)}
    c.log(f"{backend}: prune of executions older than {args.keep_days} days")
    figures["prune"] = prune_figures(jobctl, url, folder, args.keep_days)
    c.log(f"{backend}: daemon (idle: its pruner finds nothing left)")
    figures.update(daemon_figures(jobctl, url, folder, job_id, args.idle, args.keep_days))
    return figures


# -- prune backlog vs lateness -----------------------------------------------------------------


def lateness_run(url: str, folder: Path, jobs: int, window: float, name: str) -> dict[str, Any]:
    from jobctl.store import open_store

    jobctl = c.venv_bin(c.jobctl_venv(), "jobctl")
    service = c.open_service(url)
    ids = []
    for n in range(jobs):
        ids.append(service.create_job({"name": f"{name}-{n:03d}", "taskFunctionId": 1, "jobTypeId": 1,
                                       "scheduleConfig": {"seconds": 1}, "taskArgs": {"command": "true"}})["id"])  # fmt: skip
    service.store.close()
    config = c.write_daemon_config(folder)
    daemon = c.Daemon(jobctl, url, config, folder, name=name)
    try:
        daemon.wait_started(timeout=120)
        begin = datetime.now(UTC)
        time.sleep(window)
        end = datetime.now(UTC)
    finally:
        daemon.stop()
    store = open_store(url)
    try:
        rows = store.db.fetch_all(
            "SELECT scheduled_for, started_at FROM executions WHERE scheduled_for >= :b AND scheduled_for < :e "
            "AND started_at IS NOT NULL AND job_id IN (SELECT id FROM jobs WHERE name LIKE :n)",
            {"b": begin + timedelta(seconds=5), "e": end - timedelta(seconds=2), "n": f"{name}-%"},
        )
    finally:
        store.close()
    from jobctl.store.database import to_utc

    late = [((to_utc(r["started_at"]) - to_utc(r["scheduled_for"])).total_seconds()) * 1000 for r in rows]  # type: ignore[operator]
    if not late:
        raise c.BenchError(f"{name}: no runs recorded")
    return {"runs": len(late), "p50_ms": c.percentile(late, 50), "p99_ms": c.percentile(late, 99),
            "max_ms": max(late)}  # fmt: skip


def lateness(backend: str, make_url: Any, args: argparse.Namespace) -> dict[str, Any]:
    with c.temp_dir("jobctl-bench-scale-") as folder, make_url(folder / "base.db") as url:
        c.log(f"{backend}: lateness without a backlog ({args.lateness_jobs} jobs every 1 s, {args.window:.0f} s)")
        base = lateness_run(url, folder, args.lateness_jobs, args.window, "base")
    with c.temp_dir("jobctl-bench-scale-") as folder, make_url(folder / "backlog.db") as url:
        c.log(f"{backend}: seeding a backlog of {args.backlog:,} expired executions")
        seeded = seed(url, 1000, args.backlog, 400)
        before = _count(url)
        c.log(f"{backend}: lateness while pruning (seeded in {seeded['seconds']:.0f}s)")
        busy = lateness_run(url, folder, args.lateness_jobs, args.window, "busy")
        pruned = before - (_count(url) - busy["runs"])
    return {"base": base, "pruning": busy, "pruned_rows": pruned, "ratio": busy["p99_ms"] / base["p99_ms"]}


def _count(url: str) -> int:
    from jobctl.store import open_store

    store = open_store(url)
    try:
        return int(store.db.scalar("SELECT COUNT(*) FROM executions"))
    finally:
        store.close()


# -- main --------------------------------------------------------------------------------------


def url_maker(backend: str, tag: str = "scale") -> Any:
    import contextlib

    @contextlib.contextmanager
    def make(path: Path) -> Any:
        if backend == "sqlite":
            yield c.sqlite_url(path)
        else:
            with c.pg_database(tag) as url:
                yield url

    return make


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> int:
    missed = False
    rows = []

    def row(name: str, unit: str, target: float, get: Any, lower: bool = True) -> None:
        nonlocal missed
        cells = []
        for backend, figures in results.items():
            try:
                value = get(figures)
            except KeyError:  # not measured in this run (--only-jobs)
                value = math.nan
            if value != value:  # NaN: not measured in this run
                cells.append("not measured")
                continue
            if name.startswith("store size"):
                target = TARGETS[f"{backend}_gb_per_m"]
            ok = value <= target if lower else value >= target
            missed |= not ok
            cells.append(f"{c.fmt(value, 3)} {unit}{'' if ok else ' (missed)'}")
        limit = "1 (SQLite), 1.5 (Postgres)" if name.startswith("store size") else f"{target:g}"
        rows.append([name, *cells, f"{'<=' if lower else '>='} {limit} {unit}"])

    row("store size per 1M executions", "GB", TARGETS["sqlite_gb_per_m"], lambda f: f["gb_per_m"])
    row("`jobctl --help` (start-up, peer)", "s", 1.0, lambda f: f["help_s"])
    row("`jobs list --json` first page", "s", TARGETS["jobs_first_page_s"], lambda f: f["jobs_first_page_s"])
    row("`jobs list --json --all`", "s", TARGETS["jobs_all_s"], lambda f: f["jobs_all_s"])
    row("`jobs list --json` first page, --api", "s", TARGETS["jobs_first_page_s"],
        lambda f: f["jobs_first_page_api_s"])  # fmt: skip
    row("`jobs list --json --all`, --api", "s", TARGETS["jobs_all_s"], lambda f: f["jobs_all_api_s"])
    row("`executions list --job X`", "s", TARGETS["executions_job_s"], lambda f: f["executions_job_s"])
    row("`executions list --status failed`", "s", TARGETS["executions_failed_s"],
        lambda f: f["executions_failed_s"])  # fmt: skip
    row("GET /executions?job_id&per_page=100 p99", "ms", TARGETS["api_p99_ms"], lambda f: f["p99_ms"])
    row("GET /healthz p99 (peer)", "ms", 1000, lambda f: f["health_p99_ms"])
    row("daemon start to leader", "s", TARGETS["leader_s"], lambda f: f["leader_s"])
    row("idle CPU (fraction of a core)", "", TARGETS["idle_cpu"], lambda f: f["idle_cpu"])
    row("idle RSS", "MB", TARGETS["idle_rss_mb"], lambda f: f["idle_rss_mb"])
    row("prune rows/s", "rows/s", TARGETS["prune_rows_s"], lambda f: f["prune"]["rows_s"], lower=False)
    print(c.md_table(["figure", *results.keys(), "target"], rows))
    print()
    for backend, figures in results.items():
        pruned = (f"; prune removed {figures['prune']['rows']:,} rows in {figures['prune']['seconds']:.1f}s"
                  if "prune" in figures else "")  # fmt: skip
        print(f"{backend}: {args.jobs:,} jobs, {args.executions:,} executions, seeded in {figures['seed_s']:.0f}s"
              f"{pruned}; load average (1 min) {figures['load_before']:.2f} before the jobs rows, "
              f"{figures['load_after']:.2f} after")  # fmt: skip
        for name, plan in figures["plans"].items():
            print(f"\n{backend} plan, {name}:\n" + "\n".join(f"    {line}" for line in plan))
    return c.EXIT_TARGET_MISSED if missed else 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--executions", type=int, default=1_000_000)
    parser.add_argument("--days", type=float, default=120.0)
    parser.add_argument("--keep-days", type=int, default=90)
    parser.add_argument("--idle", type=float, default=20.0)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--lateness", action="store_true")
    parser.add_argument("--no-jobs-all", action="store_true", help="skip `jobs list --json --all` (minutes at 100k)")
    parser.add_argument("--only-jobs", action="store_true", help="the jobs listing's figures and plans alone")
    parser.add_argument("--backlog", type=int, default=1_000_000)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--lateness-jobs", type=int, default=100)
    args = parser.parse_args()
    backends = [b for b in args.backends.split(",") if b == "sqlite" or c.pg_available()]
    c.print_header("scale" if not args.lateness else "prune backlog vs lateness")
    results: dict[str, dict[str, Any]] = {}
    for backend in backends:
        if args.lateness:
            results[backend] = lateness(backend, url_maker(backend), args)
            continue
        tag = "scale_jobslist" if args.only_jobs else "scale"
        with c.temp_dir("jobctl-bench-scale-") as folder, url_maker(backend, tag)(folder / "scale.db") as url:
            results[backend] = measure(backend, url, folder, args)
    c.save_results("scale-lateness" if args.lateness else "scale", {"args": vars(args), "results": results})
    if args.lateness:
        rows = [[b, c.fmt(r["base"]["p99_ms"], 1), c.fmt(r["pruning"]["p99_ms"], 1), c.fmt(r["ratio"], 2),
                 f"{r['pruned_rows']:,}", r["base"]["runs"], r["pruning"]["runs"]] for b, r in results.items()]  # fmt: skip
        print(c.md_table(["backend", "p99 ms, no backlog", "p99 ms, pruning", "ratio (<= 1.5)", "rows pruned in window",
                          "runs", "runs"], rows))  # fmt: skip
        return 0 if all(r["ratio"] <= TARGETS["lateness_ratio"] for r in results.values()) else c.EXIT_TARGET_MISSED
    return report(results, args)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    _ = io
    c.run_benchmark(main)
