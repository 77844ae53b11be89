"""CLI start-up: wall time of ``jobctl`` calls against a SQLite store of 1,000 jobs.

Targets: ``jobctl jobs list --json`` and ``jobctl cron explain '0 9 * * 1-5'`` median <= 150 ms. Peers in the same run, same interpreter:
``python -c pass`` and ``python -c "import sqlite3"``. Also shows which packages dominate
start-up (``python -X importtime``) and checks that ``jobctl --help`` imports none of the heavy
libraries.

jobctl is installed (not editable) into ``bench/.venv-cli``, site-packages byte-compiled, and
run with ``PYTHONDONTWRITEBYTECODE`` unset through ``bench/.venv-cli/bin/jobctl``.

Usage: python bench/cli_startup.py [--runs 30] [--jobs 1000]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import _common as c

TARGET_MS = 150.0
ALT_REQUIREMENT = "typer<0.29"
"""An experiment run next to the real install: typer 0.29 coerces every parameter through pydantic."""
ALT_VENV = "cli-typer028"
CRON_EXPLAIN = "jobctl cron explain '0 9 * * 1-5'"
"""No store involved: parsing, the English description and the next runs, all at start-up cost."""
BANNED = ("sqlalchemy", "alembic", "httpx", "uvicorn", "fastapi", "pydantic", "rich")


def seed(url: str, count: int) -> None:
    service = c.open_service(url)
    kinds = [
        (1, {"minutes": 5}),
        (1, {"hours": 1}),
        (1, {"seconds": 30}),
        (2, {"expression": "*/5 * * * *"}),
        (2, {"hour": "2", "minute": "30"}),
        (2, {"expression": "0 9 * * mon-fri"}),
    ]
    try:
        for n in range(count):
            job_type, schedule = kinds[n % len(kinds)]
            service.create_job(
                {
                    "name": f"job-{n:05d}",
                    "taskFunctionId": 1,
                    "jobTypeId": job_type,
                    "scheduleConfig": schedule,
                    "taskArgs": {"command": f"echo {n}"},
                    "description": f"benchmark job {n}",
                }
            )
    finally:
        service.store.close()


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    begin = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, timeout=60)
    return (time.perf_counter() - begin) * 1000, done


def import_profile(python: Path, argv: list[str], env: dict[str, str], runs: int = 5) -> list[tuple[str, int, int]]:
    """(module, self_us, cumulative_us) of each import, the median over ``runs`` warm calls."""
    samples: dict[str, list[tuple[int, int]]] = {}
    order: list[str] = []
    for n in range(runs + 1):  # the first call may still write bytecode
        done = subprocess.run([str(python), "-X", "importtime", *argv], env=env, capture_output=True, timeout=60)
        if done.returncode != 0:
            raise c.BenchError(f"{argv} failed: {done.stderr.decode()[-2000:]}")
        if n == 0:
            continue
        for line in done.stderr.decode().splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            _, self_us, cumulative, name = (part.strip() for part in line.replace("import time:", "|", 1).split("|"))
            if name not in samples:
                order.append(name)
            samples.setdefault(name, []).append((int(self_us), int(cumulative)))
    return [
        (name, int(c.median([s for s, _ in samples[name]])), int(c.median([cu for _, cu in samples[name]])))
        for name in order
    ]


def by_package(rows: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """(top-level package, modules, self time in us), largest first."""
    totals: dict[str, list[int]] = {}
    for name, self_us, _ in rows:
        entry = totals.setdefault(name.split(".")[0], [0, 0])
        entry[0] += 1
        entry[1] += self_us
    return sorted(((pkg, n, us) for pkg, (n, us) in totals.items()), key=lambda item: -item[2])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--no-alt", action="store_true", help=f"skip the experiment with {ALT_REQUIREMENT}")
    args = parser.parse_args()
    alt_jobctl = c.BENCH / f".venv-{ALT_VENV}" / "bin" / "jobctl"
    python = Path(sys.executable)
    jobctl = c.venv_bin(python, "jobctl")
    with c.temp_dir("jobctl-bench-cli-") as folder:
        url = c.sqlite_url(folder / "store.db")
        c.log(f"seeding {args.jobs} jobs through the service")
        begin = time.perf_counter()
        seed(url, args.jobs)
        c.log(f"seeded in {time.perf_counter() - begin:.1f}s")
        env = c.run_env(XDG_CONFIG_HOME=str(folder / "config"), XDG_DATA_HOME=str(folder / "data"))
        assert "PYTHONDONTWRITEBYTECODE" not in env
        base = [str(jobctl), "--db", url]
        commands = {
            "python -c pass": [str(python), "-c", "pass"],
            'python -c "import sqlite3"': [str(python), "-c", "import sqlite3"],
            "jobctl --help": [str(jobctl), "--help"],
            "jobctl jobs list --json": [*base, "jobs", "list", "--json"],
            "jobctl jobs list --json --per-page 100": [*base, "jobs", "list", "--json", "--per-page", "100"],
            "jobctl jobs list (table, piped)": [*base, "jobs", "list"],
            CRON_EXPLAIN: [str(jobctl), "cron", "explain", "0 9 * * 1-5"],
        }
        if not args.no_alt and alt_jobctl.exists():
            commands[f"experiment, {ALT_REQUIREMENT}: jobctl jobs list --json"] = [
                str(alt_jobctl),
                *base[1:],
                "jobs",
                "list",
                "--json",
            ]
            commands[f"experiment, {ALT_REQUIREMENT}: jobctl jobs list (table)"] = [
                str(alt_jobctl),
                *base[1:],
                "jobs",
                "list",
            ]
        expect_jobs = {
            "jobctl jobs list --json": min(20, args.jobs),
            "jobctl jobs list --json --per-page 100": min(100, args.jobs),
        }
        times: dict[str, list[float]] = {label: [] for label in commands}
        c.log(f"{args.runs} rounds of {len(commands)} commands (order shuffled each round, 2 warm-up rounds)")
        for round_no in range(args.runs + 2):
            order = list(commands)
            random.shuffle(order)
            for label in order:
                elapsed, done = timed(commands[label], env)
                if done.returncode != 0:
                    raise c.BenchError(f"{label} exited {done.returncode}: {done.stderr.decode()[-1000:]}")
                if label in expect_jobs:
                    data = json.loads(done.stdout)
                    if len(data["jobs"]) != expect_jobs[label] or data["total"] != args.jobs:
                        raise c.BenchError(f"{label}: {len(data['jobs'])} jobs of total {data['total']}")
                if round_no >= 2:
                    times[label].append(elapsed)
        profile_json = import_profile(python, [str(jobctl), *base[1:], "jobs", "list", "--json"], env)
        profile_help = import_profile(python, [str(jobctl), "--help"], env)

    peer = c.median(times["python -c pass"])
    rows = []
    for label, values in times.items():
        med = c.median(values)
        rows.append(
            [
                label,
                c.fmt(med),
                c.fmt(c.percentile(values, 90)),
                c.fmt(min(values)),
                c.ratio(med, peer),
                c.fmt(med - peer),
            ]
        )
    c.print_header("CLI start-up (bench/cli_startup.py)")
    print(
        f"{args.jobs} jobs in a SQLite store, {args.runs} runs each, wall time in ms measured by the parent "
        f"(fork + exec + run + exit).\n"
    )
    print(c.md_table(["command", "median ms", "p90 ms", "min ms", "vs python -c pass", "ms over python -c pass"], rows))
    print()
    verdicts = {}
    for label in ("jobctl jobs list --json", CRON_EXPLAIN):
        value = c.median(times[label])
        verdicts[label] = value <= TARGET_MS
        print(
            f"Target `{label}` median <= {TARGET_MS:.0f} ms: {value:.1f} ms -> "
            f"{'MET' if verdicts[label] else f'MISSED by {value - TARGET_MS:.1f} ms ({value / TARGET_MS:.2f}x)'}"
        )
    print()
    met = all(verdicts.values())

    help_modules = {name.split(".")[0] for name, _, _ in profile_help}
    json_modules = {name.split(".")[0] for name, _, _ in profile_json}
    leaked = sorted(set(BANNED) & help_modules)
    print(
        f"check: `jobctl --help` imports none of {', '.join(BANNED)}: "
        f"{'PASS' if not leaked else 'FAIL, imports ' + ', '.join(leaked)}"
    )
    print(
        f"info: `jobctl jobs list --json` imports of those: {', '.join(sorted(set(BANNED) & json_modules)) or 'none'}\n"
    )

    for title, profile in (("jobctl jobs list --json", profile_json), ("jobctl --help", profile_help)):
        total = sum(us for _, us, _ in profile)
        top = by_package(profile)[:12]
        print(
            f"Import time of `{title}` (python -X importtime, median of 5 warm calls): {total / 1000:.1f} ms in "
            f"{len(profile)} modules; by top-level package (self time):\n"
        )
        print(
            c.md_table(
                ["package", "modules", "ms", "share"],
                [[pkg, n, c.fmt(us / 1000), f"{100 * us / total:.0f}%"] for pkg, n, us in top],
            )
        )
        slowest = sorted(profile, key=lambda row: -row[1])[:8]
        print("\nslowest single modules (self ms): " + ", ".join(f"{name} {us / 1000:.1f}" for name, us, _ in slowest))
        print()
    c.save_results(
        "cli_startup",
        {
            "runs": args.runs,
            "jobs": args.jobs,
            "times_ms": {
                label: {"median": c.median(v), "p90": c.percentile(v, 90), "min": min(v)} for label, v in times.items()
            },
            "target_met": met,
            "targets_met": verdicts,
            "help_banned_imports": leaked,
            "import_packages_json": by_package(profile_json)[:20],
            "import_packages_help": by_package(profile_help)[:20],
        },
    )
    if leaked:
        return c.EXIT_ERROR
    return 0 if met else c.EXIT_TARGET_MISSED


if __name__ == "__main__":

    def venvs() -> Path:
        if "--no-alt" not in sys.argv:
            c.ensure_venv(ALT_VENV, [ALT_REQUIREMENT], jobctl=True)
        return c.jobctl_venv()

    c.run_benchmark(main, venvs)
