"""Service layer throughput: creating 10,000 jobs, and next run times of 100,000 cron schedules.

Targets: 10,000 jobs created through ``Service.create_job`` in <= 5 s (SQLite and Postgres);
"computing next run times for 100,000 cron jobs: say how long".

Peers, same run: APScheduler 3.11 ``add_job`` into a SQLAlchemyJobStore on the same backend
(each add is its own transaction, like a create), the driver's limit (one-row INSERTs, one
transaction each, through sqlite3 / psycopg), and APScheduler's ``CronTrigger`` for the
same 100,000 cron schedules (whose next times are also compared with jobctl's).

Usage: python bench/service_create.py [--jobs 10000] [--cron 100000] [--no-pg]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import _common as c

TARGET_CREATE_S = 5.0
PROFILE_COUNT = 1000
ZONES = ["UTC", "UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def cron_items(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """A mix of real-world cron schedules (crontab expressions and APScheduler-style fields)."""
    items: list[dict[str, Any]] = []
    for _ in range(count):
        m, h, k = rng.randrange(60), rng.randrange(24), rng.choice([2, 3, 5, 10, 15, 20, 30])
        kind = rng.randrange(100)
        if kind < 15:
            item: dict[str, Any] = {"expression": f"*/{k} * * * *"}
        elif kind < 30:
            item = {"expression": f"{m} * * * *"}
        elif kind < 50:
            item = {"expression": f"{m} {h} * * *"}
        elif kind < 58:
            item = {"expression": f"{m} {h} * * {rng.choice(DAYS)}"}
        elif kind < 66:
            item = {"expression": f"{m} {h} * * mon-fri"}
        elif kind < 74:
            item = {"expression": f"{m} {h} {rng.randint(1, 28)} * *"}
        elif kind < 78:
            item = {"expression": f"{m} {h} {rng.randint(1, 28)} {rng.randint(1, 12)} *"}
        elif kind < 82:
            item = {"expression": f"{m} {min(h, 20)}-{min(h, 20) + 3} * * *"}
        elif kind < 85:
            item = {"expression": f"{m} */{rng.choice([2, 3, 4, 6, 8, 12])} * * *"}
        elif kind < 90:
            item = {"hour": str(h), "minute": str(m)}
        elif kind < 94:
            item = {"day_of_week": "mon-fri", "hour": "8-18", "minute": f"*/{k}"}
        elif kind < 97:
            item = {"minute": f"*/{k}", "second": str(rng.randrange(60))}
        elif kind < 99:
            item = {"month": str(rng.randint(1, 12)), "day": str(rng.randint(1, 28)), "hour": str(h)}
        else:
            item = {"expression": "0 0 29 2 *"}  # leap day: the long jump through croniter
        item["timezone"] = rng.choice(ZONES)
        items.append(item)
    return items


def job_bodies(count: int, rng: random.Random) -> list[dict[str, Any]]:
    crons = cron_items(count, rng)
    bodies = []
    for n in range(count):
        if n % 2:
            job_type, schedule = 2, crons[n]
        else:
            job_type, schedule = 1, {rng.choice(["seconds", "minutes", "hours"]): rng.choice([1, 5, 10, 30])}
        bodies.append(
            {
                "name": f"bench-job-{n:05d}",
                "taskFunctionId": 1,
                "jobTypeId": job_type,
                "scheduleConfig": schedule,
                "taskArgs": {"command": "true"},
            }
        )
    return bodies


CHUNK = 500
"""jobctl creates and driver-limit inserts alternate in chunks of this size, so load changes on
the shared machine hit both alike."""


def create_interleaved(url: str, raw: Any, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    """Create every body through the service and insert as many raw rows, alternating in chunks."""
    service = c.open_service(url)  # opening creates the schema: not timed
    ours = theirs = 0.0
    try:
        for first in range(0, len(bodies), CHUNK):
            begin = time.perf_counter()
            for body in bodies[first : first + CHUNK]:
                service.create_job(body)
            ours += time.perf_counter() - begin
            theirs += raw.insert(first, min(first + CHUNK, len(bodies)))
        row = service.store.db.fetch_one(
            "SELECT COUNT(*) AS n, SUM(CASE WHEN next_run_time IS NULL THEN 1 ELSE 0 END) AS no_next FROM jobs"
        )
    finally:
        service.store.close()
        raw.close()
    assert row is not None
    return {"jobctl": {"seconds": ours, "count": int(row["n"]), "no_next": int(row["no_next"] or 0)}, "raw": theirs}


def profile_create(url: str, bodies: list[dict[str, Any]], count: int) -> str:
    """cProfile of ``count`` creates: the top functions by cumulative time (for the report)."""
    import cProfile
    import io
    import pstats

    service = c.open_service(url)
    try:
        profiler = cProfile.Profile()
        profiler.enable()
        for body in bodies[:count]:
            service.create_job({**body, "name": body["name"] + "-p"})
        profiler.disable()
    finally:
        service.store.close()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    return out.getvalue()


RAW_COLUMNS = "id, name, config, args, next_run_time, created_at"


class RawSqlite:
    """The driver's limit on SQLite: one-row INSERTs, each in its own write transaction (WAL, synchronous=NORMAL)."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute(
            "CREATE TABLE jobs (id TEXT PRIMARY KEY, name TEXT UNIQUE, config TEXT, args TEXT, "
            "next_run_time TEXT, created_at TEXT)"
        )
        self.conn.execute("CREATE INDEX ix_next ON jobs (next_run_time)")

    def insert(self, first: int, last: int) -> float:
        begin = time.perf_counter()
        for n in range(first, last):
            now = datetime.now(UTC)
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute(
                f"INSERT INTO jobs ({RAW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    str(uuid.uuid4()),
                    f"job-{n}",
                    json.dumps({"minutes": 5}),
                    json.dumps({"command": "true"}),
                    (now + timedelta(minutes=5)).isoformat(),
                    now.isoformat(),
                ),
            )
            self.conn.execute("COMMIT")
        return time.perf_counter() - begin

    def close(self) -> None:
        self.conn.close()


class RawPostgres:
    """The driver's limit on Postgres: one-row INSERTs in autocommit (one round trip and one commit each)."""

    def __init__(self, url: str) -> None:
        import psycopg

        from jobctl.store.url import parse_store_url

        self.conn = psycopg.connect(autocommit=True, **(parse_store_url(url).pg_conninfo or {}))
        self.conn.execute(
            "CREATE TABLE raw_jobs (id TEXT PRIMARY KEY, name TEXT UNIQUE, config JSONB, args JSONB, "
            "next_run_time TIMESTAMPTZ, created_at TIMESTAMPTZ)"
        )
        self.conn.execute("CREATE INDEX ix_raw_next ON raw_jobs (next_run_time)")

    def insert(self, first: int, last: int) -> float:
        begin = time.perf_counter()
        for n in range(first, last):
            now = datetime.now(UTC)
            self.conn.execute(
                f"INSERT INTO raw_jobs ({RAW_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    str(uuid.uuid4()),
                    f"job-{n}",
                    json.dumps({"minutes": 5}),
                    json.dumps({"command": "true"}),
                    now + timedelta(minutes=5),
                    now,
                ),
                prepare=True,
            )
        return time.perf_counter() - begin

    def close(self) -> None:
        self.conn.close()


def cron_jobctl(items: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    from jobctl.schedules import parse_schedule

    begin = time.perf_counter()
    schedules = [parse_schedule(2, item, default_timezone="UTC", anchor=now) for item in items]
    parse_s = time.perf_counter() - begin
    begin = time.perf_counter()
    nexts = [schedule.next_slot_after(now) for schedule in schedules]
    next_s = time.perf_counter() - begin
    begin = time.perf_counter()
    for item in items:
        parse_schedule(2, item, default_timezone="UTC", anchor=now).next_slot_after(now)
    both_s = time.perf_counter() - begin
    return {"parse_seconds": parse_s, "next_seconds": next_s, "parse_next_seconds": both_s, "nexts": nexts}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--cron", type=int, default=100_000)
    parser.add_argument("--no-pg", action="store_true", help="skip Postgres")
    parser.add_argument(
        "--profile", action="store_true", help=f"also print a cProfile of {PROFILE_COUNT:,} creates per backend"
    )
    args = parser.parse_args()
    rng = random.Random(20261126)
    bodies = job_bodies(args.jobs, rng)
    aps_jobs = [{"jobTypeId": b["jobTypeId"], "scheduleConfig": b["scheduleConfig"]} for b in bodies]
    if not args.no_pg and not c.pg_available():
        raise c.BenchError("Postgres on 127.0.0.1:5432 is not reachable (use --no-pg to skip it)")
    backends = ["sqlite"] + ([] if args.no_pg else ["postgres"])
    create: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    profile_text = ""
    with c.temp_dir("jobctl-bench-create-") as folder:
        for backend in backends:
            results: dict[str, Any] = {}
            if backend == "sqlite":
                c.log(f"sqlite: jobctl creating {args.jobs} jobs, alternating with raw one-row transactions")
                results.update(
                    create_interleaved(c.sqlite_url(folder / "jobctl.db"), RawSqlite(folder / "raw.db"), bodies)
                )
                c.log(f"sqlite: APScheduler add_job x{args.jobs}")
                results["aps"] = c.aps_run("add", {"url": c.sqlite_url(folder / "aps.db"), "jobs": aps_jobs}, folder)
                if args.profile:
                    profile_text = profile_create(c.sqlite_url(folder / "jobctl.db"), bodies, PROFILE_COUNT)
            else:
                with c.pg_database("create") as url:
                    c.log(f"postgres: jobctl creating {args.jobs} jobs, alternating with raw one-row transactions")
                    results.update(create_interleaved(url, RawPostgres(url), bodies))
                    if args.profile:
                        profile_text += "\n--- postgres ---\n" + profile_create(url, bodies, PROFILE_COUNT)
                with c.pg_database("create_aps") as url:
                    c.log(f"postgres: APScheduler add_job x{args.jobs}")
                    results["aps"] = c.aps_run("add", {"url": url, "jobs": aps_jobs}, folder)
            jobctl = results["jobctl"]
            if jobctl["count"] != args.jobs or jobctl["no_next"]:
                problems.append(f"{backend}: {jobctl['count']} jobs stored, {jobctl['no_next']} without nextRunTime")
            if results["aps"]["count"] != args.jobs:
                problems.append(f"{backend}: APScheduler stored {results['aps']['count']} jobs")
            create[backend] = results

        items = cron_items(args.cron, rng)
        now = datetime.now(UTC).replace(microsecond=0)
        c.log(f"jobctl: parse / next_slot_after for {args.cron} cron schedules")
        ours = cron_jobctl(items, now)
        c.log(f"APScheduler: CronTrigger / get_next_fire_time for {args.cron} cron schedules")
        out = folder / "aps-nexts.json"
        # APScheduler's get_next_fire_time(None, now) is "at or after now"; jobctl's next_slot_after is
        # strictly after: ask APScheduler from 1 us later so both mean the same.
        later = now + timedelta(microseconds=1)
        theirs = c.aps_run("cron", {"items": items, "now": later.isoformat(), "out": str(out)}, folder)
        aps_nexts = [datetime.fromisoformat(n) if n else None for n in json.loads(out.read_text())]
    mismatches = [
        (item, mine, other) for item, mine, other in zip(items, ours["nexts"], aps_nexts, strict=True) if mine != other
    ]

    c.print_header("Service layer: creating jobs, computing cron next run times (bench/service_create.py)")
    rows = []
    for backend, results in create.items():
        ours_s = results["jobctl"]["seconds"]
        rows.append(
            [
                f"{backend}: jobctl Service.create_job",
                c.fmt(ours_s, 2),
                c.fmt(args.jobs / ours_s, 0),
                c.fmt(1e6 * ours_s / args.jobs, 0),
                c.ratio(ours_s, results["aps"]["seconds"]),
                c.ratio(ours_s, results["raw"]),
            ]
        )
        rows.append(
            [
                f"{backend}: APScheduler add_job (SQLAlchemyJobStore)",
                c.fmt(results["aps"]["seconds"], 2),
                c.fmt(args.jobs / results["aps"]["seconds"], 0),
                c.fmt(1e6 * results["aps"]["seconds"] / args.jobs, 0),
                "",
                "",
            ]
        )
        rows.append(
            [
                f"{backend}: driver limit, 1-row INSERT per transaction",
                c.fmt(results["raw"], 2),
                c.fmt(args.jobs / results["raw"], 0),
                c.fmt(1e6 * results["raw"] / args.jobs, 0),
                "",
                "",
            ]
        )
    print(
        f"Creating {args.jobs:,} jobs (half interval, half cron), each in its own transaction; jobctl and the "
        f"driver limit alternate in chunks of {CHUNK}, APScheduler runs after them:\n"
    )
    print(c.md_table(["what", "seconds", "jobs/s", "us/job", "jobctl / APScheduler", "jobctl / driver limit"], rows))
    verdicts = []
    for backend, results in create.items():
        seconds = results["jobctl"]["seconds"] * 10_000 / args.jobs
        met = seconds <= TARGET_CREATE_S
        verdicts.append(met)
        print(
            f"\nTarget {backend}: 10,000 creates <= {TARGET_CREATE_S:.0f} s: {seconds:.2f} s -> "
            + ("MET" if met else f"MISSED by {seconds - TARGET_CREATE_S:.2f} s ({seconds / TARGET_CREATE_S:.2f}x)")
        )
    print(
        f"\n{args.cron:,} cron schedules (mixed crontab expressions and APScheduler fields, 5 zones; "
        f"next run after {now.isoformat()}):\n"
    )
    rows = []
    for label, key in (
        ("parse (validate + build)", "parse_seconds"),
        ("next run time, parsed schedules", "next_seconds"),
        ("parse + next run time", "parse_next_seconds"),
    ):
        rows.append(
            [
                label,
                c.fmt(ours[key], 2),
                c.fmt(1e6 * ours[key] / args.cron, 1),
                c.fmt(theirs[key], 2),
                c.fmt(1e6 * theirs[key] / args.cron, 1),
                c.ratio(ours[key], theirs[key]),
            ]
        )
    print(
        c.md_table(
            ["step", "jobctl s", "jobctl us each", "APScheduler s", "APScheduler us each", "jobctl / APScheduler"], rows
        )
    )
    print(f"\nNext run times that differ between jobctl and APScheduler: {len(mismatches)} of {args.cron:,}")
    for item, mine, other in mismatches[:5]:
        print(
            f"- {json.dumps(item)}: jobctl {mine.isoformat() if mine else None}, "
            f"APScheduler {other.isoformat() if other else None}"
        )
    if profile_text:
        print(
            f"\ncProfile of {PROFILE_COUNT:,} creates (top 25 by cumulative time):\n\n```\n"
            + profile_text.strip()
            + "\n```"
        )
    if problems:
        print("\nPROBLEMS:\n" + "\n".join(f"- {p}" for p in problems))
    c.save_results(
        "service_create",
        {
            "jobs": args.jobs,
            "cron": args.cron,
            "create": {
                b: {"jobctl_s": r["jobctl"]["seconds"], "aps_s": r["aps"]["seconds"], "raw_s": r["raw"]}
                for b, r in create.items()
            },
            "cron_jobctl": {k: v for k, v in ours.items() if k != "nexts"},
            "cron_aps": theirs,
            "mismatches": len(mismatches),
            "problems": problems,
        },
    )
    if problems:
        return c.EXIT_ERROR
    return 0 if all(verdicts) else c.EXIT_TARGET_MISSED


if __name__ == "__main__":

    def venvs() -> Path:
        c.aps_venv()
        return c.jobctl_venv()

    c.run_benchmark(main, venvs)
