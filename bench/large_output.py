"""Large, fast output through a real daemon: memory, store growth and what is kept.

One shell job prints ``--bytes`` (default 1 GB) as fast as ``head -c N /dev/zero | tr '\\0' a``
can, then ``END``. A real ``jobctl daemon --no-api`` runs it once per store (SQLite file,
Postgres database). Measured: the daemon's idle RSS just before the run, its peak RSS during
the run (VmRSS sampled every 20 ms, and VmHWM), the store's size before and after (SQLite: the
database file plus its WAL; Postgres: ``pg_total_relation_size`` of the output table), the
characters kept, the bytes reported dropped, and the run's duration.

Targets: peak RSS < idle + 100 MB whatever the volume; exactly the last 1,000,000 characters
kept, ending with ``END``; ``outputDroppedBytes`` = bytes printed - 1,000,000; the store grows
by at most a few times the kept output (< 8 MB), not by the volume printed.

Usage: python bench/large_output.py [--bytes 1000000000] [--stores sqlite,postgres]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

import _common as c

LIMIT_CHARS = 1_000_000
TARGET_RSS_OVER_IDLE_MB = 100.0
TARGET_STORE_GROWTH_MB = 8.0


class RssSampler(threading.Thread):
    """Samples a process's VmRSS until stopped; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_mb = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            try:
                self.peak_mb = max(self.peak_mb, c.rss_mb(self.pid))
            except OSError:
                return
            self._done.wait(self.interval)

    def finish(self) -> float:
        self._done.set()
        self.join()
        return self.peak_mb


def store_size_mb(url: str, folder: Path) -> float:
    """SQLite: the database file and its WAL; Postgres: the output table with its TOAST and indexes."""
    if url.startswith("sqlite"):
        files = [folder / "store.db", folder / "store.db-wal"]
        sizes = [path.stat().st_size if path.exists() else 0 for path in files]
        c.log(f"sqlite file {sizes[0] / 1e6:.2f} MB, WAL {sizes[1] / 1e6:.2f} MB")
        return sum(sizes) / 1e6
    service = c.open_service(url)
    try:
        size = service.store.db.scalar("SELECT pg_total_relation_size('execution_output')")
    finally:
        service.store.close()
    return float(size) / 1e6


def measure(store: str, url: str, folder: Path, volume: int) -> dict[str, Any]:
    service = c.open_service(url)
    command = f"head -c {volume} /dev/zero | tr '\\0' a; echo; echo END"
    job = service.create_job(
        {"name": "flood", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"hours": 24},
         "taskArgs": {"command": command}}
    )  # fmt: skip
    daemon = c.Daemon(c.venv_bin(Path(sys.executable), "jobctl"), url, c.write_daemon_config(folder), folder)
    try:
        daemon.wait_started()
        c.wait_leader(url, daemon.pid)
        time.sleep(2.0)  # let start-up settle
        idle_mb = c.rss_mb(daemon.pid)
        before_mb = store_size_mb(url, folder)
        sampler = RssSampler(daemon.pid)
        sampler.start()
        began = time.monotonic()
        execution_id = service.trigger_job(job["id"])["executionId"]
        while service.get_execution(execution_id)["status"] in ("pending", "running"):
            time.sleep(0.05)
        wall_s = time.monotonic() - began
        peak_mb = sampler.finish()
        hwm_mb = c.rss_mb(daemon.pid, "VmHWM")
        after_mb = store_size_mb(url, folder)
        run = service.get_execution(execution_id)
        log = service.get_execution_log(execution_id)
    finally:
        daemon.stop()
        service.store.close()
    data = log["data"]
    return {
        "store": store,
        "printed_bytes": volume + len("\nEND\n"),
        "status": run["status"],
        "run_s": run["durationSeconds"],
        "wall_s": wall_s,
        "idle_rss_mb": idle_mb,
        "peak_rss_mb": peak_mb,
        "hwm_mb": hwm_mb,
        "store_before_mb": before_mb,
        "store_after_mb": after_mb,
        "kept_chars": len(data),
        "kept_tail_ok": data.endswith("a\nEND\n") and set(data[:-5]) == {"a"},
        "dropped_bytes": run["outputDroppedBytes"],
        "daemon_problems": daemon.problems(),
    }


def check(m: dict[str, Any]) -> list[str]:
    missed = []
    if m["peak_rss_mb"] - m["idle_rss_mb"] >= TARGET_RSS_OVER_IDLE_MB:
        missed.append(f"{m['store']}: peak RSS {m['peak_rss_mb'] - m['idle_rss_mb']:.0f} MB over idle")
    if m["kept_chars"] != LIMIT_CHARS or not m["kept_tail_ok"]:
        missed.append(f"{m['store']}: kept {m['kept_chars']} characters (tail ok: {m['kept_tail_ok']})")
    if m["dropped_bytes"] != m["printed_bytes"] - LIMIT_CHARS:
        missed.append(f"{m['store']}: outputDroppedBytes {m['dropped_bytes']}")
    if m["store_after_mb"] - m["store_before_mb"] >= TARGET_STORE_GROWTH_MB:
        missed.append(f"{m['store']}: store grew {m['store_after_mb'] - m['store_before_mb']:.1f} MB")
    return missed


def table_row(m: dict[str, Any]) -> list[str]:
    over_idle = m["peak_rss_mb"] - m["idle_rss_mb"]
    return [
        m["store"],
        f"{m['printed_bytes'] / 1e9:.2f} GB",
        f"{m['run_s']:.1f} s",
        f"{m['idle_rss_mb']:.0f} MB",
        f"{m['peak_rss_mb']:.0f} MB (+{over_idle:.0f})",
        f"{m['store_before_mb']:.2f} -> {m['store_after_mb']:.2f} MB",
        f"{m['kept_chars']:,}",
        f"{m['dropped_bytes']:,}",
        m["status"],
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bytes", type=int, default=1_000_000_000)
    parser.add_argument("--stores", default="sqlite,postgres")
    args = parser.parse_args()
    results = []
    for store in args.stores.split(","):
        with c.temp_dir("jobctl-bench-output-") as folder:
            c.log(f"{store}: {args.bytes:,} bytes of output through a daemon")
            if store == "sqlite":
                results.append(measure(store, c.sqlite_url(folder / "store.db"), folder, args.bytes))
            elif c.pg_available():
                with c.pg_database("output") as url:
                    results.append(measure(store, url, folder, args.bytes))
            else:
                c.log("postgres: not reachable, skipped")
    c.print_header("Large output")
    headers = ["store", "printed", "run time", "idle RSS", "peak RSS (over idle)", "store before -> after",
               "kept chars", "dropped bytes", "status"]  # fmt: skip
    rows = [table_row(m) for m in results]
    print(c.md_table(headers, rows))
    missed = [problem for m in results for problem in check(m)]
    problems = [line for m in results for line in m["daemon_problems"]]
    print()
    print("targets: " + ("all met" if not missed else "; ".join(missed)))
    if problems:
        print("daemon log problems:\n" + "\n".join(problems[:20]))
    c.save_results("large_output", {"bytes": args.bytes, "results": results})
    if any(m["status"] != "success" for m in results):
        return c.EXIT_ERROR
    return c.EXIT_TARGET_MISSED if missed else 0


if __name__ == "__main__":
    c.run_benchmark(main)
