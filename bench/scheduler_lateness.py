"""Scheduler lateness: command jobs (``true``) on an interval, lateness = real start - slot.

Target: 100 jobs every 1 s, p99 lateness (``startedAt - scheduledFor``) <= 50 ms and no worse
than APScheduler 3.11 doing the same subprocess work. Also 1,000 jobs every 10 s.

jobctl: ``jobctl daemon --no-api`` on a fresh SQLite store; lateness read back from the
``executions`` table. APScheduler: a BackgroundScheduler (memory job store) with the same
interval jobs, each running ``subprocess.run(['true'])``; lateness = the job's own start time
- the event's ``scheduled_run_time``. Both get a pool of 100 workers and the same slots:

- ``spread``: job i starts at T0 + i * period / N (the jobs' phases evenly spread: a steady
  100 runs/s), the usual case when jobs are created one by one;
- ``aligned``: every job starts at T0 (all N due at the same instant each period, like cron).

Every run checks that each slot in the window ran exactly once, successfully.

Usage: python bench/scheduler_lateness.py [--cases 100x1:spread,100x1:aligned,1000x10:spread]
                                          [--window 15] [--py-spy]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import _common as c

TARGET_P99_MS = 50.0
POOL = 100
DEFAULT_CASES = "100x1:spread,100x1:aligned,1000x10:spread"


def start_dates(count: int, period: float, t0: float, phase: str) -> list[datetime]:
    base = datetime.fromtimestamp(t0, UTC)
    if phase == "aligned":
        return [base] * count
    return [base + timedelta(seconds=period * n / count) for n in range(count)]


def run_jobctl(folder: Path, count: int, period: int, phase: str, window: float, spy: bool = False) -> dict[str, Any]:
    jobctl = c.venv_bin(Path(sys.executable), "jobctl")
    url = c.sqlite_url(folder / "store.db")
    lead = 3.0 + count * 0.001
    t0 = float(int(time.time() + lead) + 1)
    starts = start_dates(count, period, t0, phase)
    service = c.open_service(url)
    try:
        for n, start in enumerate(starts):
            service.create_job(
                {
                    "name": f"late-{n:04d}",
                    "taskFunctionId": 1,
                    "jobTypeId": 1,
                    "scheduleConfig": {"seconds": period, "start_date": c.iso_z(start)},
                    "taskArgs": {"command": "true"},
                }
            )
    finally:
        service.store.close()
    config = c.write_daemon_config(folder, max_concurrent_runs=POOL)
    daemon = c.Daemon(jobctl, url, config, folder)
    startup = daemon.wait_started()
    if time.time() > t0 - 0.2:
        raise c.BenchError(f"daemon ready only {time.time() - t0:.2f}s after T0; raise the lead time")
    time.sleep(max(0.0, t0 - time.time()))
    cpu0 = c.cpu_seconds(daemon.pid)
    profile = c.py_spy_start(daemon.pid, window, f"py-spy-lateness-{count}x{period}-{phase}") if spy else None
    time.sleep(max(0.0, t0 + window - time.time()))
    cpu1 = c.cpu_seconds(daemon.pid)
    if profile:
        c.stop(profile[0], timeout=60, sig=0)  # signal 0: just wait for py-spy to write its file
    time.sleep(1.5)  # let the last slots of the window finish
    code = daemon.stop()
    log_problems = daemon.problems()
    kept = daemon.keep_log(f"daemon-lateness-{count}x{period}-{phase}") if log_problems or code != 0 else None
    rows = c.execution_rows(url)
    in_window = [
        r for r in rows if r["scheduled_for"] is not None and t0 <= r["scheduled_for"].timestamp() < t0 + window
    ]
    lags = [
        (r["started_at"] - r["scheduled_for"]).total_seconds()
        for r in in_window
        if r["status"] == "success" and r["started_at"] is not None
    ]
    slowest: dict[float, float] = {}
    for r in in_window:
        if r["status"] == "success" and r["started_at"] is not None:
            moment = r["scheduled_for"].timestamp()
            slowest[moment] = max(slowest.get(moment, 0.0), (r["started_at"] - r["scheduled_for"]).total_seconds())
    return {
        "lags": lags,
        "slowest_per_moment": [slowest[moment] for moment in sorted(slowest)],
        "in_window": c.integrity(in_window),
        "all": c.integrity(rows),
        "exit_code": code,
        "startup_s": startup,
        "cpu_share": (cpu1 - cpu0) / window,
        "log_problems": log_problems[:10],
        "log_kept": str(kept) if kept else None,
        "per_job": _per_job(in_window),
        "profile": str(profile[1]) if profile else None,
    }


def _per_job(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["job_id"]] = counts.get(row["job_id"], 0) + 1
    return {"jobs": len(counts), "min": min(counts.values(), default=0), "max": max(counts.values(), default=0)}


def run_aps(folder: Path, count: int, period: int, phase: str, window: float) -> dict[str, Any]:
    t0 = float(int(time.time() + 3.0) + 1)
    starts = start_dates(count, period, t0, phase)
    proc = c.aps_start(
        "lateness",
        {
            "start_dates": [s.isoformat() for s in starts],
            "period": period,
            "pool": POOL,
            "window_start": t0,
            "window_end": t0 + window,
        },
        folder,
    )
    time.sleep(max(0.0, t0 - time.time()))
    cpu0 = c.cpu_seconds(proc.pid)
    time.sleep(max(0.0, t0 + window - time.time()))
    cpu1 = c.cpu_seconds(proc.pid)
    result = c.aps_result(proc, timeout=window + 60)
    result["cpu_share"] = (cpu1 - cpu0) / window
    return result


def summary(lags: list[float]) -> list[float]:
    return [1000 * c.percentile(lags, p) for p in (50, 90, 99)] + [1000 * max(lags) if lags else float("nan")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=DEFAULT_CASES, help="JOBSxPERIOD:PHASE,... (default %(default)s)")
    parser.add_argument("--window", type=float, default=15.0, help="seconds of slots measured per case and scheduler")
    parser.add_argument(
        "--py-spy", action="store_true", help="record the daemon with py-spy (bench/results/py-spy-*.txt)"
    )
    args = parser.parse_args()
    cases = []
    for spec in args.cases.split(","):
        size, phase = spec.split(":")
        count, period = (int(x) for x in size.split("x"))
        if phase not in ("spread", "aligned"):
            raise c.BenchError(f"phase must be spread or aligned: {spec}")
        cases.append((count, period, phase))
    results = []
    problems: list[str] = []
    for count, period, phase in cases:
        window = max(args.window, 2 * period)
        window -= window % period
        expected = count * int(window // period)
        label = f"{count} jobs every {period}s, {phase}"
        with c.temp_dir("jobctl-bench-late-") as folder:
            c.log(f"{label}: jobctl daemon, {window:.0f}s window")
            ours = run_jobctl(folder, count, period, phase, window, args.py_spy)
            c.log(f"{label}: APScheduler, {window:.0f}s window")
            theirs = run_aps(folder, count, period, phase, window)
        window_stats = ours["in_window"]
        if window_stats["total"] != expected or window_stats["duplicates"]:
            problems.append(
                f"{label}: jobctl recorded {window_stats['total']} executions for {expected} slots "
                f"({window_stats['duplicates']} duplicates; per job {ours['per_job']})"
            )
        if window_stats["by_status"].get("success", 0) != window_stats["total"]:
            problems.append(f"{label}: jobctl statuses in the window: {window_stats['by_status']}")
        if ours["exit_code"] != 0:
            problems.append(f"{label}: jobctl daemon exited with {ours['exit_code']} on SIGTERM")
        if theirs["in_window"] != expected:
            problems.append(f"{label}: APScheduler ran {theirs['in_window']} of {expected} slots ({theirs['counts']})")
        results.append(
            {
                "label": label,
                "count": count,
                "period": period,
                "phase": phase,
                "window": window,
                "expected": expected,
                "jobctl": ours,
                "aps": theirs,
            }
        )

    c.print_header("Scheduler lateness (bench/scheduler_lateness.py)")
    print(
        f"Lateness = real process start - scheduled slot, in ms. Pool: {POOL} workers for both "
        f"(jobctl `[daemon] max_concurrent_runs = {POOL}`). jobctl on SQLite; APScheduler in memory.\n"
    )
    rows = []
    verdicts = []
    for r in results:
        ours, theirs = summary(r["jobctl"]["lags"]), summary(r["aps"]["lags"])
        rows.append(
            [
                r["label"],
                "jobctl",
                f"{r['jobctl']['in_window']['total']}/{r['expected']}",
                *(c.fmt(x) for x in ours),
                f"{100 * r['jobctl']['cpu_share']:.0f}%",
                c.ratio(ours[2], theirs[2]),
            ]
        )
        rows.append(
            [
                "",
                "APScheduler 3.11",
                f"{r['aps']['in_window']}/{r['expected']}",
                *(c.fmt(x) for x in theirs),
                f"{100 * r['aps']['cpu_share']:.0f}%",
                "",
            ]
        )
        met = ours[2] <= TARGET_P99_MS and ours[2] <= theirs[2]
        r["target_met"] = met
        verdicts.append(met)
    print(
        c.md_table(
            [
                "case",
                "scheduler",
                "runs/slots",
                "p50 ms",
                "p90 ms",
                "p99 ms",
                "max ms",
                "CPU (of one core)",
                "p99 jobctl / APScheduler",
            ],
            rows,
        )
    )
    print()
    for r in results:
        ours, theirs = summary(r["jobctl"]["lags"]), summary(r["aps"]["lags"])
        absolute = "MET" if ours[2] <= TARGET_P99_MS else f"MISSED ({ours[2]:.1f} ms, {ours[2] / TARGET_P99_MS:.2f}x)"
        relative = "MET" if ours[2] <= theirs[2] else f"MISSED ({c.ratio(ours[2], theirs[2])} of {theirs[2]:.1f} ms)"
        print(
            f"- {r['label']}: p99 <= {TARGET_P99_MS:.0f} ms: {absolute}; p99 <= APScheduler's: {relative}; "
            f"statuses {r['jobctl']['in_window']['by_status']}, duplicates {r['jobctl']['in_window']['duplicates']}, "
            f"daemon start-up {r['jobctl']['startup_s']:.2f}s, log warnings {len(r['jobctl']['log_problems'])}"
        )
        slowest = r["jobctl"]["slowest_per_moment"]
        if slowest and r["phase"] == "aligned":
            print(
                f"  - latest start per due moment (ms), in order: {', '.join(f'{1000 * v:.0f}' for v in slowest[:20])}"
            )
        for line in r["jobctl"]["log_problems"][:3]:
            print(f"  - log: {line[:200]}")
        if r["jobctl"]["log_kept"]:
            print(f"  - daemon log kept in {r['jobctl']['log_kept']}")
        if r["jobctl"]["profile"]:
            print(f"  - py-spy ({r['jobctl']['profile']}), top functions by inclusive samples, all threads:")
            for frame, _, share in c.collapsed_top(Path(r["jobctl"]["profile"]), 25):
                print(f"    - {100 * share:5.1f}% {frame}")
    if problems:
        print("\nPROBLEMS:\n" + "\n".join(f"- {p}" for p in problems))
    c.save_results(
        "scheduler_lateness",
        {
            "results": [
                {k: v for k, v in r.items() if k not in ("jobctl", "aps")}
                | {
                    "jobctl": {
                        "summary_ms": summary(r["jobctl"]["lags"]),
                        **{k: v for k, v in r["jobctl"].items() if k != "lags"},
                    },
                    "aps": {
                        "summary_ms": summary(r["aps"]["lags"]),
                        **{k: v for k, v in r["aps"].items() if k != "lags"},
                    },
                }
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
