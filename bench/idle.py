"""Idle daemon: 10,000 enabled hourly jobs, nothing due; start-up time, CPU and memory.

Targets: with 10,000 enabled hourly jobs the idle daemon uses < 1% of one core over 60 s and
< 120 MB RSS; start-up < 2 s.

Half the jobs are interval ``{"hours": 1}``, half cron ``M * * * *`` with M half an hour
away, so nothing runs during the measurement. Two daemons run side by side, each on its own
copy of the SQLite store: ``jobctl daemon --no-api`` and ``jobctl daemon`` (with the API).
Start-up = spawn -> the ``started`` log line, -> the store shows it leader, and (API) ->
``GET /healthz`` answers. CPU = utime + stime from /proc over 60 s, RSS = VmRSS at the end, for
the daemon and for its process tree (the daemon starts a small watchdog process).

Peers in the same 60 s window: APScheduler 3.11 BackgroundScheduler with the same number of
hourly jobs in a SQLAlchemyJobStore on SQLite (started on the store seeded beforehand), and a
bare ``python -c "import time; time.sleep(...)"`` (the interpreter's own floor).

Usage: python bench/idle.py [--jobs 10000] [--seconds 60] [--py-spy]
"""

from __future__ import annotations

import argparse
import socket
import sqlite3
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _common as c

TARGET_CPU = 0.01
TARGET_RSS_MB = 120.0
TARGET_STARTUP_S = 2.0


def seed(url: str, count: int) -> float:
    minute = (datetime.now(UTC).minute + 30) % 60
    service = c.open_service(url)
    begin = time.perf_counter()
    try:
        for n in range(count):
            schedule: tuple[int, dict[str, Any]] = (
                (1, {"hours": 1}) if n % 2 else (2, {"expression": f"{minute} * * * *"})
            )
            service.create_job(
                {
                    "name": f"hourly-{n:05d}",
                    "taskFunctionId": 1,
                    "jobTypeId": schedule[0],
                    "scheduleConfig": schedule[1],
                    "taskArgs": {"command": "true"},
                }
            )
    finally:
        service.store.close()
    return time.perf_counter() - begin


def copy_sqlite(source: Path, target: Path) -> None:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            child = int(stat.parent.name)
            found += [child, *children(child)]
    return found


def tree_cpu(pid: int) -> float:
    return sum(c.cpu_seconds(p) for p in [pid, *children(pid)])


def tree_rss(pid: int) -> float:
    return sum(c.rss_mb(p) for p in [pid, *children(pid)])


def threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def wait_for(predicate: Any, timeout: float, what: str) -> float:
    begin = time.monotonic()
    while time.monotonic() - begin < timeout:
        if predicate():
            return time.monotonic() - begin
        time.sleep(0.01)
    raise c.BenchError(f"{what} did not happen within {timeout:.0f}s")


def healthz(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--py-spy", action="store_true", help="record the --no-api daemon during the window")
    args = parser.parse_args()
    jobctl = c.venv_bin(Path(sys.executable), "jobctl")
    problems: list[str] = []
    with c.temp_dir("jobctl-bench-idle-") as folder:
        store_a, store_b = folder / "store-noapi.db", folder / "store-api.db"
        c.log(f"seeding {args.jobs} hourly jobs through the service")
        seed_s = seed(c.sqlite_url(store_a), args.jobs)
        copy_sqlite(store_a, store_b)
        c.log(f"seeded in {seed_s:.1f}s; APScheduler: seeding its SQLAlchemyJobStore")
        aps_url = c.sqlite_url(folder / "aps.db")
        aps_seed = c.aps_run("seed", {"url": aps_url, "jobs": args.jobs}, folder)
        config = c.write_daemon_config(folder)
        measured: dict[str, dict[str, Any]] = {}

        c.log("starting jobctl daemon --no-api")
        noapi = c.Daemon(jobctl, c.sqlite_url(store_a), config, folder, name="daemon-noapi")
        began = noapi.started_at
        logged = noapi.wait_started()
        c.wait_leader(c.sqlite_url(store_a), noapi.pid)
        measured["jobctl daemon --no-api"] = {
            "pid": noapi.pid,
            "started_s": logged,
            "leader_s": time.monotonic() - began,
        }

        c.log("starting jobctl daemon (API)")
        port = free_port()
        api = c.Daemon(jobctl, c.sqlite_url(store_b), config, folder, api=True, port=port, name="daemon-api")
        began = api.started_at
        logged = api.wait_started()
        c.wait_leader(c.sqlite_url(store_b), api.pid)
        leader = time.monotonic() - began
        wait_for(lambda: healthz(port), 30, "GET /healthz")
        measured["jobctl daemon (API)"] = {
            "pid": api.pid,
            "started_s": logged,
            "leader_s": leader,
            "healthz_s": time.monotonic() - began,
        }

        c.log("starting APScheduler on its seeded store")
        aps_log = folder / "aps.log"
        with aps_log.open("wb") as handle:
            began = time.monotonic()
            aps = c.aps_start(
                "idle", {"url": aps_url, "jobs": args.jobs, "timeout": args.seconds + 120}, folder, stderr=handle
            )
            wait_for(lambda: b"aps started" in aps_log.read_bytes() or aps.poll() is not None, 60, "APScheduler start")
        if aps.poll() is not None:
            raise c.BenchError(f"APScheduler idle worker exited: {aps_log.read_text()[-2000:]}")
        measured["APScheduler 3.11 (SQLAlchemyJobStore)"] = {"pid": aps.pid, "started_s": time.monotonic() - began}
        bare = c.spawn([sys.executable, "-c", f"import time; time.sleep({args.seconds + 120})"], env=c.run_env())
        measured["bare python (sleep)"] = {"pid": bare.pid}

        time.sleep(2.0)  # let start-up work (first ticks, first heartbeats) settle
        c.log(f"measuring CPU over {args.seconds:.0f}s")
        profile = c.py_spy_start(noapi.pid, args.seconds, "py-spy-idle-noapi") if args.py_spy else None
        start = {label: (tree_cpu(m["pid"]), c.cpu_seconds(m["pid"])) for label, m in measured.items()}
        began = time.monotonic()
        time.sleep(args.seconds)
        elapsed = time.monotonic() - began
        for label, m in measured.items():
            tree0, own0 = start[label]
            m["cpu_share"] = (c.cpu_seconds(m["pid"]) - own0) / elapsed
            m["tree_cpu_share"] = (tree_cpu(m["pid"]) - tree0) / elapsed
            m["rss_mb"] = c.rss_mb(m["pid"])
            m["hwm_mb"] = c.rss_mb(m["pid"], "VmHWM")
            m["tree_rss_mb"] = tree_rss(m["pid"])
            m["threads"] = threads(m["pid"])
            m["processes"] = 1 + len(children(m["pid"]))
        if profile:
            c.stop(profile[0], timeout=60, sig=0)
        for daemon, url in ((noapi, c.sqlite_url(store_a)), (api, c.sqlite_url(store_b))):
            code = daemon.stop()
            if code != 0:
                problems.append(f"daemon pid {daemon.pid} exited with {code} on SIGTERM")
            ran = len(c.execution_rows(url))
            if ran:
                problems.append(f"daemon pid {daemon.pid}: {ran} executions while nothing was due")
            for line in daemon.problems()[:3]:
                problems.append(f"daemon pid {daemon.pid} log: {line[:200]}")
            if daemon.problems() or code != 0:
                problems.append(f"daemon log kept in {daemon.keep_log(daemon.log_path.stem)}")
        c.stop(aps)
        c.stop(bare)

    c.print_header("Idle daemon with 10,000 hourly jobs (bench/idle.py)")
    print(
        f"{args.jobs:,} enabled hourly jobs (half interval, half cron), none due; SQLite store; CPU over "
        f"{args.seconds:.0f} s with all four processes idle side by side; RSS at the end. "
        f"(seeding took {seed_s:.1f} s through jobctl's service, {aps_seed['seconds']:.1f} s through APScheduler.)\n"
    )
    aps_m = measured["APScheduler 3.11 (SQLAlchemyJobStore)"]
    rows = []
    for label, m in measured.items():
        startup = c.fmt(m.get("started_s"), 2)
        if "leader_s" in m:
            startup += f" / {m['leader_s']:.2f}"
        if "healthz_s" in m:
            startup += f" / {m['healthz_s']:.2f}"
        rows.append(
            [
                label,
                startup,
                f"{100 * m['cpu_share']:.2f}%",
                f"{100 * m['tree_cpu_share']:.2f}%",
                c.fmt(m["rss_mb"]),
                c.fmt(m["hwm_mb"]),
                c.fmt(m["tree_rss_mb"]),
                m["threads"],
                m["processes"],
                f"{1000 * m['tree_cpu_share'] * elapsed:.0f}",
                c.ratio(m["tree_rss_mb"], aps_m["tree_rss_mb"]),
            ]
        )
    print(
        c.md_table(
            [
                "process",
                "start-up s (log / leader / healthz)",
                "CPU (one core)",
                "CPU, process tree",
                "RSS MB",
                "peak RSS MB",
                "RSS MB, process tree",
                "threads",
                "processes",
                "tree CPU ms in the window",
                "tree RSS vs APScheduler",
            ],
            rows,
        )
    )
    print()
    verdicts = []
    for label in ("jobctl daemon --no-api", "jobctl daemon (API)"):
        m = measured[label]
        checks = [
            (
                f"CPU < {100 * TARGET_CPU:.0f}% of one core",
                m["tree_cpu_share"] < TARGET_CPU,
                f"{100 * m['tree_cpu_share']:.2f}%",
            ),
            (f"RSS < {TARGET_RSS_MB:.0f} MB", m["tree_rss_mb"] < TARGET_RSS_MB, f"{m['tree_rss_mb']:.1f} MB (tree)"),
            (
                f"start-up < {TARGET_STARTUP_S:.0f} s",
                m["leader_s"] < TARGET_STARTUP_S,
                f"{m['leader_s']:.2f} s to leader",
            ),
        ]
        for name, met, value in checks:
            verdicts.append(met)
            print(f"- {label}: {name}: {value} -> {'MET' if met else 'MISSED'}")
    if profile:
        print(f"\npy-spy of the --no-api daemon ({profile[1]}), own time of non-idle samples:\n")
        for frame, count, share in c.collapsed_top(profile[1], 15, own=True):
            print(f"- {100 * share:5.1f}% ({count} samples) {frame}")
    if problems:
        print("\nPROBLEMS:\n" + "\n".join(f"- {p}" for p in problems))
    c.save_results(
        "idle",
        {
            "jobs": args.jobs,
            "seconds": args.seconds,
            "seed_s": seed_s,
            "aps_seed_s": aps_seed["seconds"],
            "measured": measured,
            "problems": problems,
        },
    )
    if problems:
        return c.EXIT_ERROR
    return 0 if all(verdicts) else c.EXIT_TARGET_MISSED


if __name__ == "__main__":
    c.run_benchmark(main, c.with_peer_venvs)
