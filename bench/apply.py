"""``jobctl apply`` of a 1,000-job file with nothing changed, end to end (targets: <= 2 s on
SQLite, <= 3 s on Postgres, and 0 writes).

Writes a jobs file of 1,000 jobs in the shapes real files have (cron in two zones, intervals,
a one-time run, timeouts, retries, labels, variables, task arguments), applies it once to a
fresh store (1,000 creates), then applies it again with the real CLI (``python -m jobctl``,
from ``bench/.venv-cli``) and counts what that second apply wrote, from outside the process:
SQLite's ``PRAGMA data_version`` on a connection held open across the call (it moves when any
other connection commits a write), and on Postgres every row's ``(ctid, xmin)`` in every table
(a written row gets a new version); the same count around the first apply must see its writes. Peers in the same run: ``jobctl jobs list --json --all``
on the same 1,000 jobs (reading them once, which apply also does) and ``python -c pass``.

    python bench/apply.py [--rounds N] [--no-pg]
"""

from __future__ import annotations

import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import (
    EXIT_TARGET_MISSED,
    jobctl_venv,
    log,
    md_table,
    median,
    pg_available,
    pg_database,
    print_header,
    ratio,
    run_benchmark,
    run_env,
    save_results,
    sqlite_url,
    temp_dir,
)

JOBS = 1000
TARGETS = {"sqlite": 2.0, "postgres": 3.0}


def jobs_file(count: int = JOBS) -> str:
    """``count`` jobs, one shape in five of each kind."""
    out = ["# generated for bench/apply.py"]
    for index in range(count):
        out.append("[[jobs]]")
        out.append(f'name = "job-{index:04d}"')
        kind = index % 5
        if kind == 0:
            out += [f'cron = "{index % 60} {index % 24} * * *"', 'timezone = "Europe/Berlin"',
                    f'command = "/usr/local/bin/task.sh --id {index}"', 'timeout = "30m"']  # fmt: skip
        elif kind == 1:
            out += [f'every = "{index % 50 + 5}m"', f'command = "curl -fsS https://example.com/ping/{index}"',
                    "retries = 2", 'retry_delay = "90s"']  # fmt: skip
        elif kind == 2:
            out += ['cron = "@daily"', 'timezone = "America/New_York"', f'command = "cleanup --older-than {index}d"',
                    'labels = { team = "ops", tier = "gold" }']  # fmt: skip
        elif kind == 3:
            out += ['cron = "*/15 8-18 * * 1-5"', 'task = "shell"',
                    f'args = {{ command = "report {index}", shell = "/bin/bash" }}', 'env = { LANG = "C.UTF-8" }']  # fmt: skip
        else:
            out += ['at = "2099-01-01T09:00:00Z"', f'command = "migrate --step {index}"', "max_instances = 2",
                    f'description = "one-time step {index}"']  # fmt: skip
        out.append("")
    return "\n".join(out)


def sqlite_writes(path: Path) -> Callable[[], int]:
    """Commits by other connections to the file since the call (0 or more, per PRAGMA data_version)."""
    conn = sqlite3.connect(path)
    start = conn.execute("PRAGMA data_version").fetchone()[0]
    return lambda: int(conn.execute("PRAGMA data_version").fetchone()[0] != start)


def pg_writes(url: str) -> Callable[[], int]:
    """Rows inserted, updated or deleted in any table since the call (row versions compared)."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")

    def versions() -> set[tuple[str, str, str]]:
        with psycopg.connect(dsn, autocommit=True) as conn:
            tables = [row[0] for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )]  # fmt: skip
            rows: set[tuple[str, str, str]] = set()
            for table in tables:
                rows |= {(table, ctid, xmin) for ctid, xmin in conn.execute(
                    f'SELECT ctid::text, xmin::text FROM "{table}"'
                )}  # fmt: skip
            return rows

    before = versions()
    return lambda: len(versions() ^ before)


CPU: list[float] = []
"""CPU seconds (user + system) of the last call: under load the wall time is mostly waiting for a core."""


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[2:])} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return seconds, proc.stdout


def measure(
    backend: str, url: str, folder: Path, rounds: int, counter: Callable[[], Callable[[], int]]
) -> dict[str, Any]:
    python = str(jobctl_venv())
    jobctl = [python, "-m", "jobctl"]
    path = folder / "jobs.toml"
    path.write_text(jobs_file())
    (folder / "jobctl.toml").write_text('[scheduler]\ntimezone = "UTC"\n')
    env = run_env(JOBCTL_DB=url, JOBCTL_CONFIG=str(folder / "jobctl.toml"))
    timed([*jobctl, "jobs", "list", "--json"], env)  # creates the store, so the counter can watch it
    written = counter()
    first, out = timed([*jobctl, "apply", "-f", str(path)], env)
    first_writes = written()
    if not first_writes:
        raise SystemExit("the write counter saw no write in the first apply: it cannot be trusted")
    created = sum(1 for line in out.splitlines() if line.startswith("+ create "))
    if created != JOBS:
        raise SystemExit(f"expected {JOBS} creates, got {created}")
    samples: dict[str, list[float]] = {"again": [], "dry": [], "list": [], "floor": []}
    writes: list[int] = []
    cpu: list[float] = []
    for _ in range(rounds):
        written = counter()
        seconds, out = timed([*jobctl, "apply", "-f", str(path)], env)
        writes.append(written())
        cpu.append(CPU[-1])
        if out != f"no changes ({JOBS} unchanged)\n":
            raise SystemExit(f"the second apply changed something: {out[:500]}")
        samples["again"].append(seconds)
        samples["dry"].append(timed([*jobctl, "apply", "-f", str(path), "--dry-run"], env)[0])
        samples["list"].append(timed([*jobctl, "jobs", "list", "--json", "--all"], env)[0])
        samples["floor"].append(timed([python, "-c", "pass"], env)[0])
    log(f"{backend}: first apply {first:.2f} s, again {median(samples['again']):.2f} s, writes {writes}")
    return {
        "first": first,
        "first_writes": first_writes,
        "again_cpu": median(cpu),
        "samples": samples,
        "medians": {k: median(v) for k, v in samples.items()},
        "writes": writes,
    }


def main() -> int:
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3
    print_header(f"jobctl apply: {JOBS} jobs, nothing changed, {rounds} rounds")
    results: dict[str, dict[str, Any]] = {}
    with temp_dir("jobctl-bench-apply-") as folder:
        store = folder / "store.db"
        results["sqlite"] = measure("sqlite", sqlite_url(store), folder, rounds, lambda: sqlite_writes(store))
    if "--no-pg" not in sys.argv and pg_available():
        with temp_dir("jobctl-bench-apply-pg-") as folder, pg_database("apply") as url:
            results["postgres"] = measure("postgres", url, folder, rounds, lambda: pg_writes(url))
    rows: list[list[Any]] = []
    met = True
    for backend, result in results.items():
        m = result["medians"]
        ok = m["again"] <= TARGETS[backend] and not any(result["writes"])
        met = met and ok
        rows += [
            [backend, "apply, 1,000 creates (once)", f"{result['first']:.2f} s", f">0 ({result['first_writes']})",
             ratio(result["first"], m["list"])],
            [backend, f"apply again, no changes (CPU {result['again_cpu']:.2f} s)", f"{m['again']:.2f} s",
             str(max(result["writes"])),
             ratio(m["again"], m["list"])],
            [backend, "apply --dry-run, no changes", f"{m['dry']:.2f} s", "-", ratio(m["dry"], m["list"])],
            [backend, "peer: jobs list --json --all", f"{m['list']:.2f} s", "-", "1.00x"],
            [backend, "floor: python -c pass", f"{m['floor']:.2f} s", "-", ratio(m["floor"], m["list"])],
        ]  # fmt: skip
    print(md_table(["store", "case (median)", "wall time", "writes", "x jobs list"], rows))
    targets = ", ".join(f"{name} <= {seconds:.0f} s" for name, seconds in TARGETS.items())
    print(f"\ntarget: apply of {JOBS} unchanged jobs ({targets}) and 0 writes: {'met' if met else 'MISSED'}")
    save_results("apply", {name: result for name, result in results.items()} | {"target_met": met})
    return 0 if met else EXIT_TARGET_MISSED


if __name__ == "__main__":
    run_benchmark(main)
