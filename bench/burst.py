"""Burst: 1,000 ``true`` jobs due at the same instant, each run recorded durably.

Target: >= 1,000 executions/s end to end on SQLite and on Postgres, i.e. from the due moment
until the store shows all 1,000 executions ``success`` (observed by polling it every 10 ms).

1,000 one-shot ``date`` jobs (job type 3) are created through the service with the same
``run_date`` a few seconds ahead; ``jobctl daemon --no-api`` is started before that moment
with ``[daemon] max_concurrent_runs`` 16 and 64. Peers in the same run: APScheduler 3.11
with 1,000 date jobs at one instant, each ``subprocess.run(['true'])``, on a 16 / 64 thread
pool; and the machine's spawn limit (one thread: ``Popen(['true']).wait()`` x 1,000, and
``Popen(['/bin/sh', '-c', 'true'])`` with stdout/stderr pipes, which is what jobctl runs).

Usage: python bench/burst.py [--jobs 1000] [--pools 16,64] [--no-pg] [--py-spy]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _common as c

TARGET_RATE = 1000.0
SEED_SECONDS_PER_JOB = {"sqlite": 0.001, "postgres": 0.006}


def spawn_limit(count: int) -> dict[str, float]:
    """One thread, ``count`` sequential spawns: plain ``true``, and ``sh -c true`` with pipes."""
    begin = time.perf_counter()
    for _ in range(count):
        subprocess.Popen(["true"]).wait()
    plain = time.perf_counter() - begin
    begin = time.perf_counter()
    for _ in range(count):
        subprocess.Popen(
            ["/bin/sh", "-c", "true"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            process_group=0,
        ).communicate()
    piped = time.perf_counter() - begin
    return {"true": count / plain, "sh_piped": count / piped}


def run_jobctl(
    folder: Path,
    url: str,
    backend: str,
    count: int,
    pool: int,
    spy: bool,
    run_as: str | None = None,
    *,
    lead: float | None = None,
    poll: float = 0.01,
    window: float = 60.0,
) -> dict[str, Any]:
    """``count`` date jobs due ``lead`` seconds ahead (default: from the creation rate), a daemon
    started before that moment, the store polled every ``poll`` s for up to ``window`` s."""
    jobctl = c.venv_bin(Path(sys.executable), "jobctl")
    lead = lead if lead is not None else 4.0 + count * SEED_SECONDS_PER_JOB[backend]
    t0 = float(int(time.time() + lead) + 1)
    run_date = c.iso_z(datetime.fromtimestamp(t0, UTC))
    service = c.open_service(url)
    try:
        for n in range(count):
            service.create_job(
                {
                    "name": f"burst-{n:04d}",
                    "taskFunctionId": 1,
                    "jobTypeId": 3,
                    "scheduleConfig": {"run_date": run_date},
                    "taskArgs": {"command": "true"},
                    # "/": a system user's home (nobody's /nonexistent) may not exist
                    **({"runAsUser": run_as, "workingDirectory": "/"} if run_as else {}),
                }
            )
        config = c.write_daemon_config(folder, max_concurrent_runs=pool)
        daemon = c.Daemon(jobctl, url, config, folder, name=f"daemon-{backend}-{pool}")
        daemon.wait_started()
        c.wait_leader(url, daemon.pid)
        margin = t0 - time.time()
        if margin < 0.2:
            raise c.BenchError(f"daemon ready only {-margin:.2f}s after the due moment; raise SEED_SECONDS_PER_JOB")
        time.sleep(max(0.0, t0 - 0.05 - time.time()))
        if backend == "postgres":  # the creations' counters reach the views now, not in the burst
            service.store.db.scalar("SELECT pg_stat_force_next_flush()")
        writes0 = server_writes(url) if backend == "postgres" else None
        cpu0 = c.cpu_seconds(daemon.pid)
        profile = c.py_spy_start(daemon.pid, 5, f"py-spy-burst-{backend}-{pool}") if spy else None
        db = service.store.db
        done_at = None
        deadline = t0 + window
        max_running = 0
        max_connections = 0
        while time.time() < deadline:
            if backend == "postgres":
                max_connections = max(
                    max_connections,
                    int(db.scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()")) - 1,
                )
            counts = {
                row["status"]: int(row["n"])
                for row in db.fetch_all("SELECT status, COUNT(*) AS n FROM executions GROUP BY status")
            }
            max_running = max(max_running, counts.get("running", 0))
            if counts.get("success", 0) >= count:
                done_at = time.time()
                break
            if sum(n for status, n in counts.items() if status not in ("pending", "running")) >= count:
                break  # all finished, not all successfully
            if daemon.proc.poll() is not None:
                raise c.BenchError(f"daemon exited during the burst:\n{daemon.log_tail()}")
            time.sleep(poll)
        cpu1 = c.cpu_seconds(daemon.pid)
        jobs_left = int(
            db.scalar("SELECT COUNT(*) FROM jobs WHERE next_run_time IS NOT NULL OR is_enabled = :y", {"y": True})
        )
        if profile:
            c.stop(profile[0], timeout=30, sig=0)
        code = daemon.stop()
    finally:
        service.store.close()
    writes = _per_run(server_writes(url), writes0, count) if writes0 is not None else None
    rows = c.execution_rows(url)
    lags = [
        (r["started_at"] - r["scheduled_for"]).total_seconds()
        for r in rows
        if r["status"] == "success" and r["started_at"] and r["scheduled_for"]
    ]
    phases = {
        "claim": [(r["created_at"] - r["scheduled_for"]).total_seconds() for r in rows if r["created_at"]],
        "spawn": [
            (r["started_at"] - r["created_at"]).total_seconds() for r in rows if r["started_at"] and r["created_at"]
        ],
        "run": [
            (r["completed_at"] - r["started_at"]).total_seconds() for r in rows if r["completed_at"] and r["started_at"]
        ],
    }
    log_problems = daemon.problems()
    kept = daemon.keep_log(f"daemon-burst-{backend}-{pool}") if log_problems or code != 0 else None
    last_completed = max((r["completed_at"].timestamp() for r in rows if r["completed_at"]), default=float("nan"))
    per_job: dict[str, int] = {}
    for row in rows:
        per_job[row["job_id"]] = per_job.get(row["job_id"], 0) + 1
    return {
        "t0": t0,
        "done_after": (done_at - t0) if done_at else None,
        "last_completed_after": last_completed - t0,
        "lags": lags,
        "phases": phases,
        "integrity": c.integrity(rows),
        "jobs_with_runs": len(per_job),
        "max_runs_per_job": max(per_job.values(), default=0),
        "jobs_still_scheduled": jobs_left,
        "exit_code": code,
        "cpu_s": cpu1 - cpu0,
        "max_running": max_running,
        "pg_connections": max_connections if backend == "postgres" else None,
        "server_writes_per_run": writes,
        "log_problems": log_problems[:10],
        "log_kept": str(kept) if kept else None,
        "profile": str(profile[1]) if profile else None,
    }


def server_writes(url: str) -> dict[str, int]:
    """Counters of the Postgres server's work in the store's database: transactions committed,
    and rows inserted, updated (of which HOT: no index entry written) and deleted per table.

    Unlike the burst's times these do not move with the machine's load, so a change to the run
    path's statements shows in them exactly. Read from a connection of its own after the
    daemon stopped (a backend's counters reach the statistics views when it ends)."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        counts = {"transactions": int(conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()[0])}  # fmt: skip
        for table, ins, upd, hot, dele in conn.execute(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_user_tables"
        ):
            counts.update(
                {f"{table} inserted": ins, f"{table} updated": upd, f"{table} HOT": hot, f"{table} deleted": dele}
            )
    return counts


def _per_run(after: dict[str, int], before: dict[str, int], runs: int) -> dict[str, float]:
    """What changed between two :func:`server_writes` readings, per run, leaving out what did not."""
    return {
        key: round((after[key] - before.get(key, 0)) / runs, 3) for key in after if after[key] != before.get(key, 0)
    }


def run_aps(folder: Path, count: int, pool: int) -> dict[str, Any]:
    t0 = float(int(time.time() + 3.0) + 1)
    result = c.aps_run("burst", {"jobs": count, "run_at": t0, "pool": pool, "timeout": 60}, folder, timeout=120)
    result["done_after"] = max(result["finished"]) - t0 if result["finished"] else None
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--pools", default="16,64", help="max_concurrent_runs / APScheduler pool sizes")
    parser.add_argument("--no-pg", action="store_true", help="skip Postgres")
    parser.add_argument("--backends", default="sqlite,postgres", help="default %(default)s")
    parser.add_argument("--no-aps", action="store_true", help="skip the APScheduler peer")
    parser.add_argument("--run-as", metavar="USER", help="every job runs as USER (runAsUser; the daemon must be root)")
    parser.add_argument("--py-spy", action="store_true", help="record each jobctl daemon for 5 s from the due moment")
    args = parser.parse_args()
    pools = [int(p) for p in args.pools.split(",")]
    backends = [b for b in args.backends.split(",") if not (args.no_pg and b == "postgres")]
    if "postgres" in backends and not c.pg_available():
        raise c.BenchError("Postgres on 127.0.0.1:5432 is not reachable (use --no-pg to skip it)")
    c.log(f"spawn limit: {args.jobs} sequential spawns, one thread")
    limit = spawn_limit(args.jobs)
    results: list[dict[str, Any]] = []
    problems: list[str] = []
    with c.temp_dir("jobctl-bench-burst-") as folder:
        for backend in backends:
            for pool in pools:
                label = f"jobctl, {backend}, max_concurrent_runs {pool}"
                c.log(f"{label}: {args.jobs} date jobs")
                if backend == "sqlite":
                    result = run_jobctl(
                        folder,
                        c.sqlite_url(folder / f"store-{pool}.db"),
                        backend,
                        args.jobs,
                        pool,
                        args.py_spy,
                        args.run_as,
                    )
                else:
                    with c.pg_database(f"burst{pool}") as url:
                        result = run_jobctl(folder, url, backend, args.jobs, pool, args.py_spy, args.run_as)
                integrity = result["integrity"]
                if result["done_after"] is None:
                    problems.append(f"{label}: not all {args.jobs} executions succeeded within 60 s: {integrity}")
                if integrity["total"] != args.jobs or integrity["duplicates"] or result["max_runs_per_job"] != 1:
                    problems.append(
                        f"{label}: {integrity['total']} executions for {args.jobs} jobs, "
                        f"{integrity['duplicates']} duplicates, max {result['max_runs_per_job']} per job"
                    )
                if integrity["by_status"].get("success", 0) != args.jobs:
                    problems.append(f"{label}: statuses {integrity['by_status']}")
                if result["jobs_still_scheduled"]:
                    problems.append(
                        f"{label}: {result['jobs_still_scheduled']} one-shot jobs still enabled or scheduled"
                    )
                if result["exit_code"] != 0:
                    problems.append(f"{label}: daemon exited with {result['exit_code']} on SIGTERM")
                results.append({"label": label, "backend": backend, "pool": pool, **result})
        for pool in [] if args.no_aps else pools:
            label = f"APScheduler 3.11, memory, pool {pool}"
            c.log(f"{label}: {args.jobs} date jobs")
            result = run_aps(folder, args.jobs, pool)
            if result["counts"]["executed"] != args.jobs:
                problems.append(f"{label}: {result['counts']}")
            results.append({"label": label, "backend": "aps", "pool": pool, **result})

    c.print_header("Burst: 1,000 jobs due at once (bench/burst.py)")
    print(
        f"{args.jobs:,} `true` runs due at one instant. end to end = due moment -> all {args.jobs:,} `success` "
        f"visible in the store (jobctl; polled every 10 ms) or last job function returned (APScheduler, in memory). "
        f"Start lag = real process start - due moment.\n"
    )
    best_aps = {r["pool"]: r for r in results if r["backend"] == "aps"}
    rows = []
    for r in results:
        rate = args.jobs / r["done_after"] if r["done_after"] else float("nan")
        r["rate"] = rate
        peer = best_aps.get(r["pool"])
        peer_rate = args.jobs / peer["done_after"] if peer and peer.get("done_after") else None
        rows.append(
            [
                r["label"],
                c.fmt(r["done_after"], 2) if r["done_after"] else "-",
                c.fmt(rate, 0),
                c.fmt(1000 * c.percentile(r["lags"], 50), 0),
                c.fmt(1000 * c.percentile(r["lags"], 99), 0),
                f"{r['cpu_s']:.2f}" if "cpu_s" in r else "",
                c.ratio(rate, peer_rate) if r["backend"] != "aps" else "",
                c.ratio(rate, limit["sh_piped"]),
            ]
        )
    rows.append(
        [
            "spawn limit: 1 thread, Popen(['true']).wait()",
            c.fmt(args.jobs / limit["true"], 2),
            c.fmt(limit["true"], 0),
            "",
            "",
            "",
            "",
            c.ratio(limit["true"], limit["sh_piped"]),
        ]
    )
    rows.append(
        [
            "spawn limit: 1 thread, Popen(sh -c true, pipes)",
            c.fmt(args.jobs / limit["sh_piped"], 2),
            c.fmt(limit["sh_piped"], 0),
            "",
            "",
            "",
            "",
            "1.00x",
        ]
    )
    print(
        c.md_table(
            [
                "what",
                "end to end s",
                "executions/s",
                "start lag p50 ms",
                "start lag p99 ms",
                "daemon CPU s",
                "rate vs APScheduler (same pool)",
                "rate vs spawn limit (sh, pipes)",
            ],
            rows,
        )
    )
    verdicts = []
    print()
    for backend in backends:
        best = max(
            (r for r in results if r["backend"] == backend), key=lambda r: r["rate"] if r["rate"] == r["rate"] else 0
        )
        met = best["rate"] >= TARGET_RATE
        verdicts.append(met)
        print(
            f"- Target {backend} >= {TARGET_RATE:,.0f} executions/s: best {best['rate']:,.0f}/s "
            f"(max_concurrent_runs {best['pool']}) -> "
            + (
                "MET"
                if met
                else f"MISSED by {TARGET_RATE - best['rate']:,.0f}/s ({best['rate'] / TARGET_RATE:.2f}x of target)"
            )
        )
    for r in results:
        if r["backend"] != "aps":
            print(
                f"- {r['label']}: statuses {r['integrity']['by_status']}, duplicates {r['integrity']['duplicates']}, "
                f"last completedAt {r['last_completed_after']:.2f}s after the due moment, "
                f"most executions seen `running` at once {r['max_running']} (pool {r['pool']}), "
                + (f"daemon's Postgres connections {r['pg_connections']}, " if r["pg_connections"] is not None else "")
                + f"log warnings {len(r['log_problems'])}"
            )
            print(
                "  - phases, p50 / p99 ms: "
                + "; ".join(
                    f"{name} {1000 * c.percentile(values, 50):.1f} / {1000 * c.percentile(values, 99):.1f}"
                    for name, values in r["phases"].items()
                )
                + " (claim = due moment -> execution row claimed; spawn = claimed -> process started;"
                " run = process started -> ended)"
            )
            for line in r["log_problems"][:3]:
                print(f"  - log: {line[:200]}")
            if r["log_kept"]:
                print(f"  - daemon log kept in {r['log_kept']}")
            if r["profile"]:
                print(f"  - py-spy ({r['profile']}), own time, all threads:")
                for frame, _, share in c.collapsed_top(Path(r["profile"]), 12, own=True):
                    print(f"    - {100 * share:5.1f}% {frame}")
    if problems:
        print("\nPROBLEMS:\n" + "\n".join(f"- {p}" for p in problems))
    c.save_results(
        "burst",
        {
            "jobs": args.jobs,
            "spawn_limit_per_s": limit,
            "results": [
                {k: v for k, v in r.items() if k not in ("lags", "finished", "phases")}
                | {"lag_p50_ms": 1000 * c.percentile(r["lags"], 50), "lag_p99_ms": 1000 * c.percentile(r["lags"], 99)}
                for r in results
            ],
            "problems": problems,
        },
    )
    if problems:
        return c.EXIT_ERROR
    return 0 if all(verdicts) else c.EXIT_TARGET_MISSED


if __name__ == "__main__":
    c.run_benchmark(main, c.with_peer_venvs)
