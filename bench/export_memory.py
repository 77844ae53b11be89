"""``executions export`` memory: the peak RSS of the CLI (and of the daemon behind ``--api``)
exporting stores of different sizes, in each format, on each backend.

The export promises constant memory for millions of runs (it writes each page before it reads
the next). For each size of ``--sizes`` a store is seeded with that many executions of
``--jobs`` jobs (bench/scale.py's seeding, inside the database: over 30 days, 90 % success, 5 %
with output), a ``jobctl daemon`` with its API is started on it (idle: its jobs are due in 1-2 h,
its retention expires nothing), and for each format of ``--formats`` the same export runs twice:
on the store (``--db URL``) and through the daemon (``--api URL``, one ``GET
/executions/stream``), ``-o FILE``, a real ``jobctl`` subprocess of bench/.venv-cli. Per export:

- wall time (spawn to exit, the CLI's start-up included) and rows/s;
- the CLI's peak RSS: ``ru_maxrss`` of its process, by /usr/bin/time (``%M``);
- through the API, the daemon's RSS before the export and its peak during it: its VmHWM (the
  high-water mark) is reset through ``/proc/PID/clear_refs`` before the export and read after;
  where that cannot be done, VmRSS sampled every 20 ms (and VmHWM if it rose) is the peak;
- the file: exactly N rows (CSV records after the header, NDJSON lines, the JSON array's
  objects, one a line as the export writes them, each parsed), each id once, and the same ids in
  every export of a store.

The peer of each mode is the same export of no row (``--since`` a year ahead): the CLI's fixed
cost (interpreter, imports, one page). The criterion, per backend, format and process: peak RSS
at the largest size / at the smallest <= 1.2 (constant memory).

Usage:
  python bench/export_memory.py [--sizes 100000,1000000] [--backends sqlite,postgres]
                                [--formats csv,ndjson,json] [--modes local,api] [--jobs 1000]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import _common as c
import scale

FORMATS = ("csv", "ndjson", "json")
MODES = ("local", "api")
CONSTANT_RATIO = 1.2
"""Peak RSS at the largest size / at the smallest, at most: constant memory."""
SAMPLE_S = 0.02
TIME = "/usr/bin/time"
"""Runs the CLI and reports its peak RSS. Not ``os.wait4`` of the CLI itself: a child this
process starts (vfork, then exec) inherits this process's own high-water mark as its
``ru_maxrss``, and this process grows while it seeds and checks the exports; /usr/bin/time forks
its child from its own small image."""


def reset_hwm(pid: int) -> bool:
    """Reset the process's VmHWM to its current RSS (``clear_refs`` 5); whether that worked."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def run_export(jobctl: Path, where: list[str], fmt: str, target: Path, daemon_pid: int | None,
               since: str | None = None) -> dict[str, Any]:  # fmt: skip
    """One ``executions export`` subprocess: its time and peak RSS (and the daemon's memory)."""
    cmd = [str(jobctl), *where, "executions", "export", "--format", fmt, "-o", str(target)]
    if since is not None:
        cmd += ["--since", since]
    figures: dict[str, Any] = {}
    sampled = 0.0
    if daemon_pid is not None:
        figures["daemon_before_mb"] = c.rss_mb(daemon_pid)
        hwm_before = c.rss_mb(daemon_pid, "VmHWM")
        figures["hwm_reset"] = reset_hwm(daemon_pid)
        sampled = figures["daemon_before_mb"]
    err_path, usage_path = target.with_suffix(".err"), target.with_suffix(".usage")
    with err_path.open("wb") as err:
        begin = time.perf_counter()
        proc = c.spawn([TIME, "-f", "%M %U %S", "-o", str(usage_path), *cmd], stdout=subprocess.DEVNULL, stderr=err,
                       env=c.run_env())  # fmt: skip
        deadline = time.monotonic() + 1800
        while True:
            pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if daemon_pid is not None:
                sampled = max(sampled, c.rss_mb(daemon_pid))
            if time.monotonic() > deadline:
                children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
                for child in children:  # the CLI, started by /usr/bin/time
                    os.kill(int(child), signal.SIGTERM)
                c.stop(proc, timeout=5)
                raise c.BenchError(f"{' '.join(cmd)} took longer than 1800 s")
            time.sleep(SAMPLE_S)
        seconds = time.perf_counter() - begin
    proc.returncode = os.waitstatus_to_exitcode(status)
    c.stop(proc)  # reaped already: only forgets it
    if proc.returncode != 0:
        raise c.BenchError(f"{' '.join(cmd[1:])} exited {proc.returncode}: {err_path.read_text()[-800:]}")
    err_path.unlink()
    peak_kib, user, system = usage_path.read_text().split()[-3:]
    usage_path.unlink()
    figures["seconds"] = seconds
    figures["cli_peak_mb"] = int(peak_kib) / 1024
    figures["cli_cpu_s"] = float(user) + float(system)
    if daemon_pid is not None:
        hwm_after = c.rss_mb(daemon_pid, "VmHWM")
        figures["daemon_sampled_peak_mb"] = sampled
        if figures["hwm_reset"]:
            figures["daemon_peak_mb"] = max(hwm_after, sampled)
        else:  # the lifetime mark: it says something only if it rose
            figures["daemon_peak_mb"] = max(sampled, hwm_after if hwm_after > hwm_before else 0.0)
        figures["daemon_after_mb"] = c.rss_mb(daemon_pid)
    return figures


def check(target: Path, fmt: str, count: int) -> str:
    """A digest of the sorted ids of the export, once it holds exactly ``count`` runs, each id
    once. :raises BenchError:"""
    import csv

    import orjson

    ids: list[str] = []
    if fmt == "csv":
        with target.open(newline="", encoding="utf-8") as file:
            table = csv.reader(file)
            header = next(table, [])
            if "id" not in header:
                raise c.BenchError(f"{target.name}: no id column in the header {header[:5]}")
            column = header.index("id")
            ids = [row[column] for row in table]
    elif fmt == "ndjson":
        with target.open("rb") as file:
            ids = [orjson.loads(line)["id"] for line in file]
    else:  # "[", then one object a line, each but the last followed by ",", then "]"
        with target.open("rb") as file:
            lines = file.read().split(b"\n")
        if lines[-1] != b"":
            raise c.BenchError(f"{target.name}: does not end with a newline")
        lines.pop()
        if lines == [b"[]"]:
            lines = []
        else:
            if len(lines) < 2 or lines[0] != b"[" or lines[-1] != b"]":
                raise c.BenchError(f"{target.name}: not a JSON array, one object a line")
            lines = lines[1:-1]
        for n, line in enumerate(lines):
            last = n == len(lines) - 1
            if last == line.endswith(b","):
                raise c.BenchError(f"{target.name}: line {n + 2} misses or has a trailing comma")
            ids.append(orjson.loads(line if last else line[:-1])["id"])
        del lines
    distinct = set(ids)
    if len(ids) != count or len(distinct) != count:
        raise c.BenchError(f"{target.name}: {len(ids):,} rows, {len(distinct):,} ids, not the {count:,} seeded")
    return hashlib.sha256("\n".join(sorted(distinct)).encode()).hexdigest()


def measure_size(backend: str, size: int, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    from jobctl.service.tokens import create_token
    from jobctl.store import open_store

    jobctl = c.venv_bin(Path(sys.executable), "jobctl")
    make_url = scale.url_maker(backend, argparse.Namespace(store=None), tag="expmem")
    with make_url(folder / "export.db") as url:
        c.log(f"{backend}: seeding {args.jobs:,} jobs and {size:,} executions")
        seeded = scale.seed(url, args.jobs, size, args.days)
        c.log(f"{backend}: seeded in {seeded['seconds']:.0f}s")
        store = open_store(url)
        token, _ = create_token(store, f"bench-{uuid.uuid4().hex[:6]}", "viewer")
        store.close()
        config = scale.history_config(folder, 36500)  # the daemon's pruner expires nothing
        port = scale.free_port()
        daemon = c.Daemon(jobctl, url, config, folder, api=True, port=port, name=f"daemon-{backend}-{size}")
        try:
            daemon.wait_started(timeout=120)
            scale._wait_idle(daemon.pid)
            where = {
                "local": ["--db", url, "--config", str(config)],
                "api": ["--api", f"http://127.0.0.1:{port}", "--token", token, "--config", str(config)],
            }
            next_year = (datetime.now(UTC) + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
            runs: dict[str, dict[str, Any]] = {}
            digests: set[str] = set()
            loads: list[float] = []
            for mode in args.modes:  # the peer: no row, the CLI's fixed cost
                target = folder / f"empty-{mode}.ndjson"
                pid = daemon.pid if mode == "api" else None
                runs[f"empty/{mode}"] = run_export(jobctl, where[mode], "ndjson", target, pid, since=next_year)
                check(target, "ndjson", 0)
                target.unlink()
            for fmt in args.formats:
                for mode in args.modes:
                    loads.append(os.getloadavg()[0])
                    target = folder / f"export-{mode}.{fmt}"
                    figures = run_export(jobctl, where[mode], fmt, target, daemon.pid if mode == "api" else None)
                    figures["bytes"] = target.stat().st_size
                    digests.add(check(target, fmt, size))
                    target.unlink()
                    figures["rows_s"] = size / figures["seconds"]
                    runs[f"{fmt}/{mode}"] = figures
                    daemon_part = (f", daemon {figures['daemon_before_mb']:.0f} -> {figures['daemon_peak_mb']:.0f} MB"
                                   if mode == "api" else "")  # fmt: skip
                    c.log(f"{backend} {size:,} {fmt:6} {mode:5}: {figures['seconds']:.1f}s, "
                          f"CLI peak {figures['cli_peak_mb']:.0f} MB{daemon_part}")  # fmt: skip
            loads.append(os.getloadavg()[0])
            if len(digests) != 1:
                raise c.BenchError(f"{backend} {size:,}: the exports hold different runs ({len(digests)} id sets)")
            problems = daemon.problems()
            if problems:
                daemon.keep_log(f"export_memory-{backend}-{size}")
                raise c.BenchError(f"{backend} {size:,}: the daemon logged problems:\n" + "\n".join(problems[:10]))
        finally:
            code = daemon.stop()
        if code != 0:
            raise c.BenchError(f"{backend} {size:,}: the daemon exited {code}:\n{daemon.log_tail()}")
    return {"seed_s": seeded["seconds"], "runs": runs, "load": (min(loads), max(loads))}


def report(results: dict[str, dict[int, dict[str, Any]]], args: argparse.Namespace) -> int:
    rows = []
    for backend, sizes in results.items():
        for size, found in sizes.items():
            for key, r in found["runs"].items():
                fmt, mode = key.split("/")
                api = mode == "api"
                rows.append([backend, f"{size:,}", fmt if fmt != "empty" else "no row (peer)", mode,
                             c.fmt(r["seconds"], 2), c.fmt(r["rows_s"], 0) if "rows_s" in r else "-",
                             c.fmt(r["cli_peak_mb"], 1), c.fmt(r["daemon_before_mb"], 1) if api else "-",
                             c.fmt(r["daemon_peak_mb"], 1) if api else "-",
                             c.fmt(r["daemon_peak_mb"] - r["daemon_before_mb"], 1) if api else "-"])  # fmt: skip
    print(c.md_table(["backend", "executions", "format", "mode", "wall (s)", "rows/s", "CLI peak RSS (MB)",
                      "daemon RSS before (MB)", "daemon peak (MB)", "daemon growth (MB)"], rows))  # fmt: skip
    print()
    small, large = min(args.sizes), max(args.sizes)
    print(f"Peak RSS at {large:,} / at {small:,} executions (criterion, constant: ratio <= {CONSTANT_RATIO}):\n")
    missed = False
    ratio_rows = []
    for backend, sizes in results.items():
        if small not in sizes or large not in sizes or small == large:
            continue
        for fmt in args.formats:
            for mode in args.modes:
                key = f"{fmt}/{mode}"
                parts = [("CLI", "cli_peak_mb")] + ([("daemon", "daemon_peak_mb")] if mode == "api" else [])
                for process, field in parts:
                    low, high = sizes[small]["runs"][key][field], sizes[large]["runs"][key][field]
                    met = high / low <= CONSTANT_RATIO
                    missed |= not met
                    ratio_rows.append([backend, fmt, mode, process, c.fmt(low, 1), c.fmt(high, 1),
                                       f"{high / low:.2f}", "MET" if met else "MISSED"])  # fmt: skip
    print(c.md_table(["backend", "format", "mode", "process", f"peak MB at {small:,}", f"peak MB at {large:,}",
                      "ratio", f"constant (<= {CONSTANT_RATIO})"], ratio_rows))  # fmt: skip
    print()
    for backend, sizes in results.items():
        for size, found in sizes.items():
            resets = {r.get("hwm_reset") for r in found["runs"].values() if "hwm_reset" in r}
            how = "VmHWM reset before each export" if resets == {True} else "VmRSS sampled every 20 ms"
            print(f"- {backend} {size:,}: seeded in {found['seed_s']:.0f} s; load {found['load'][0]:.1f}-"
                  f"{found['load'][1]:.1f}; daemon peak from {how}")  # fmt: skip
    c.save_results("export_memory", {"args": vars(args), "results": results})
    return c.EXIT_TARGET_MISSED if missed else 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000", help="executions per store, comma-separated")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--modes", default=",".join(MODES), help="local (--db), api (--api through a daemon)")
    parser.add_argument("--jobs", type=int, default=1_000)
    parser.add_argument("--days", type=float, default=30.0)
    args = parser.parse_args()
    args.sizes = sorted({int(size.replace("_", "")) for size in args.sizes.split(",")})
    args.formats = [f for f in args.formats.split(",") if f]
    args.modes = [m for m in args.modes.split(",") if m]
    if set(args.formats) - set(FORMATS) or set(args.modes) - set(MODES) or not args.formats or not args.modes:
        raise c.BenchError(f"--formats takes {','.join(FORMATS)}, --modes {','.join(MODES)}")
    backends = [b for b in args.backends.split(",") if b == "sqlite" or c.pg_available()]
    sizes_text = " and ".join(f"{size:,}" for size in args.sizes)
    c.print_header(f"executions export memory at {sizes_text} executions")
    results: dict[str, dict[int, dict[str, Any]]] = {}
    for backend in backends:
        results[backend] = {}
        for size in args.sizes:
            with c.temp_dir("jobctl-bench-expmem-") as folder:
                results[backend][size] = measure_size(backend, size, folder, args)
    return report(results, args)


if __name__ == "__main__":
    c.run_benchmark(main)
