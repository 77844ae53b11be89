"""10,000 jobs due in the same second: all start within 10 s, none twice, all recorded.

``--jobs`` one-shot ``date`` jobs running ``true`` are created through the service with the
same ``run_date``, far enough ahead for the creation and the daemon's start; a real ``jobctl
daemon --no-api`` (``[daemon] max_concurrent_runs`` as given, default the config's 64) is
leader before that instant. From the execution rows afterwards: start delay = ``startedAt -
scheduledFor`` (max / p99 / p50), duplicates per ``(job, scheduledFor, attempt)`` and runs per
job (must be 0 and 1), rows recorded and their statuses (must be ``--jobs`` ``success``), every
one-shot job done afterwards and a clean stop of the daemon.
The claim and spawn phases split the delay: claim = ``scheduledFor`` -> row created, spawn =
row created -> process started.

Peer in the same run: the machine's spawn limit (one thread, sequential ``sh -c true`` with
pipes, as jobctl runs a command; bench/burst.py's helper), given as the seconds that
``--jobs`` such spawns take one after the other.

Usage: python bench/due_burst.py [--jobs 10000] [--backends sqlite,postgres] [--pools 64]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import _common as c

TARGET_S = 10.0
CREATE_SECONDS_PER_JOB = {"sqlite": 0.004, "postgres": 0.015}
"""Generous creation cost per job on a loaded machine: the due instant is set this far ahead."""


def one_run(folder: Path, backend: str, count: int, pool: int) -> dict[str, Any]:
    import burst

    lead = 15.0 + count * CREATE_SECONDS_PER_JOB[backend]
    if backend == "sqlite":
        url = c.sqlite_url(folder / f"due-{pool}.db")
        return burst.run_jobctl(folder, url, backend, count, pool, False, lead=lead, poll=0.2, window=300.0)
    with c.pg_database(f"dueburst{pool}") as url:
        return burst.run_jobctl(folder, url, backend, count, pool, False, lead=lead, poll=0.2, window=300.0)


def main() -> int:
    import burst

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pools", default="64", help="[daemon] max_concurrent_runs, comma-separated")
    parser.add_argument("--spawns", type=int, default=1000, help="spawns timed for the peer (scaled to --jobs)")
    args = parser.parse_args()
    backends = args.backends.split(",")
    if "postgres" in backends and not c.pg_available():
        raise c.BenchError("Postgres on 127.0.0.1:5432 is not reachable")
    c.print_header(f"{args.jobs:,} jobs due in the same second (bench/due_burst.py)")
    c.log(f"spawn limit: {args.spawns} sequential spawns, one thread")
    limit = burst.spawn_limit(args.spawns)
    results = []
    problems = []
    with c.temp_dir("jobctl-bench-due-") as folder:
        for backend in backends:
            for pool in [int(p) for p in args.pools.split(",")]:
                label = f"{backend}, max_concurrent_runs {pool}"
                c.log(f"{label}: {args.jobs:,} date jobs")
                began = time.perf_counter()
                r = one_run(folder, backend, args.jobs, pool)
                r["wall_s"] = time.perf_counter() - began
                r["load"] = Path("/proc/loadavg").read_text().split()[:3]
                integrity = r["integrity"]
                ok_rows = integrity["total"] == args.jobs and integrity["by_status"].get("success", 0) == args.jobs
                if not ok_rows or integrity["duplicates"] or r["max_runs_per_job"] != 1:
                    problems.append(f"{label}: {integrity}, max {r['max_runs_per_job']} runs per job")
                if r["jobs_still_scheduled"] or r["exit_code"] != 0:
                    problems.append(f"{label}: {r['jobs_still_scheduled']} one-shot jobs still scheduled, "
                                    f"daemon exit code {r['exit_code']}")  # fmt: skip
                if r["log_problems"]:
                    problems.append(
                        f"{label}: {len(r['log_problems'])} log warnings, e.g. {r['log_problems'][0][:200]}"
                    )
                results.append({"label": label, "backend": backend, "pool": pool, **r})
    sh_seconds = args.jobs / limit["sh_piped"]
    rows = []
    for r in results:
        lags = r["lags"]
        rows.append([
            r["label"], f"{r['integrity']['total']:,}", r["integrity"]["duplicates"], r["max_runs_per_job"],
            c.fmt(max(lags, default=float("nan")), 2), c.fmt(c.percentile(lags, 99), 2), c.fmt(c.percentile(lags, 50), 2),
            c.fmt(r["last_completed_after"], 2), c.fmt(r["cpu_s"], 1), c.ratio(max(lags, default=0.0), sh_seconds),
            " ".join(r["load"]),
        ])  # fmt: skip
    print(c.md_table(["run", "rows", "duplicates", "max runs per job", "start delay max s", "p99 s", "p50 s",
                      "last completed s", "daemon CPU s", "max delay vs spawn limit", "load after"], rows))  # fmt: skip
    print(f"\nPeer: {args.jobs:,} sequential `sh -c true` spawns with pipes take {sh_seconds:.2f} s here "
          f"({limit['sh_piped']:,.0f}/s; plain `true` {limit['true']:,.0f}/s).")  # fmt: skip
    for r in results:
        print(f"- {r['label']}: statuses {r['integrity']['by_status']}, most seen running at once {r['max_running']}"
              + (f", daemon's Postgres connections {r['pg_connections']}" if r["pg_connections"] is not None else "")
              + "; phases p50 / p99 / max s: "
              + "; ".join(f"{name} {c.percentile(v, 50):.2f} / {c.percentile(v, 99):.2f} / {max(v, default=0):.2f}"
                          for name, v in r["phases"].items()))  # fmt: skip
    for r in results:
        if r["server_writes_per_run"]:
            print(f"- {r['label']}: the server's work per run (pg_stat counters of the store's database): "
                  + ", ".join(f"{key} {value:g}" for key, value in r["server_writes_per_run"].items()))  # fmt: skip
    missed = [r for r in results if max(r["lags"], default=float("inf")) > TARGET_S]
    for r in results:
        worst = max(r["lags"], default=float("nan"))
        print(
            f"- target: all start within {TARGET_S:g} s ({r['label']}): max {worst:.2f} s -> "
            + ("MET" if worst <= TARGET_S else "MISSED")
        )
    if problems:
        print("\nPROBLEMS:\n" + "\n".join(f"- {p}" for p in problems))
    c.save_results("due-burst", {
        "jobs": args.jobs, "spawn_limit_per_s": limit,
        "results": [{k: v for k, v in r.items() if k not in ("lags", "phases")}
                    | {"lag_max_s": max(r["lags"], default=None), "lag_p99_s": c.percentile(r["lags"], 99),
                       "lag_p50_s": c.percentile(r["lags"], 50)} for r in results],
        "problems": problems,
    })  # fmt: skip
    if problems:
        return c.EXIT_ERROR
    return c.EXIT_TARGET_MISSED if missed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    c.run_benchmark(main)
