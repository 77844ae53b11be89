"""``jobctl import crontab`` of a 1,000-line crontab on SQLite, end to end (target: <= 2 s).

Writes a crontab of 1,000 job lines in the shapes real crontabs have (variables, names, macros,
ranges, ``%`` standard input, a second zone) and runs the real CLI (``python -m jobctl``, from
``bench/.venv-cli``) on a fresh SQLite store: the first import (1,000 creates in one
transaction), a re-import (nothing changes, nothing written), and a dry run. Peers in the same
run: ``python -c pass`` (the floor of any CLI call) and ``jobctl jobs list --json`` on the same
1,000 jobs (reading them once, which every import also does).

    python bench/import_crontab.py [--rounds N]
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from typing import Any

from _common import (
    EXIT_TARGET_MISSED,
    jobctl_venv,
    log,
    md_table,
    median,
    print_header,
    ratio,
    run_benchmark,
    run_env,
    save_results,
    sqlite_url,
    temp_dir,
)

LINES = 1000
TARGET_SECONDS = 2.0


def crontab_text(lines: int = LINES) -> str:
    """``lines`` job lines with a variable block every 100 lines, as crontabs grow."""
    out = ["# generated for bench/import_crontab.py", "SHELL=/bin/bash", "PATH=/usr/local/bin:/usr/bin:/bin", ""]
    for index in range(lines):
        if index % 100 == 0:
            out.append(f"CRON_TZ={'America/New_York' if index % 200 else 'UTC'}")
            out.append(f"HOME=/srv/app{index // 100}")
        kind = index % 5
        if kind == 0:
            out.append(f"# name: task-{index}")
            out.append(f"{index % 60} {index % 24} * * * /usr/local/bin/task.sh --id {index}")
        elif kind == 1:
            out.append(f"*/{(index % 4 + 1) * 5} 8-18 * * mon-fri curl -fsS https://example.com/ping/{index}")
        elif kind == 2:
            out.append(f"@daily /usr/bin/cleanup --older-than {index}d")
        elif kind == 3:
            out.append(f"{index % 60} {index % 12} 1,15 * * mail -s report{index} ops%body {index}\\%%end")
        else:
            out.append(f"{index % 60} 4 * jan-jun sun /opt/report/run {index} >> /var/log/r{index}.log 2>&1")
    return "\n".join(out) + "\n"


CPU: dict[str, list[float]] = {}
"""CPU seconds (user + system) of each case's process, by case: on a loaded machine the wall time
says how long a person waited, the CPU time how much work the import is."""


def timed(argv: list[str], env: dict[str, str], *, case: str = "") -> tuple[float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[2:])} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    CPU.setdefault(case, []).append(cpu)
    return seconds, proc.stdout


def main() -> int:
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3
    python = str(jobctl_venv())
    print_header(f"jobctl import crontab: {LINES} lines on SQLite, {rounds} rounds")
    samples: dict[str, list[float]] = {"first": [], "again": [], "dry": [], "list": [], "floor": []}
    for round_index in range(rounds):
        with temp_dir("jobctl-bench-import-") as folder:
            crontab = folder / "crontab"
            crontab.write_text(crontab_text())
            (folder / "jobctl.toml").write_text('[scheduler]\ntimezone = "UTC"\n')
            env = run_env(JOBCTL_DB=sqlite_url(folder / "store.db"), JOBCTL_CONFIG=str(folder / "jobctl.toml"))
            jobctl = [python, "-m", "jobctl"]
            seconds, out = timed([*jobctl, "import", "crontab", str(crontab)], env, case="first")
            created = sum(1 for line in out.splitlines() if line.startswith("+ create "))
            if created != LINES:
                raise SystemExit(f"expected {LINES} creates, got {created}")
            samples["first"].append(seconds)
            seconds, out = timed([*jobctl, "import", "crontab", str(crontab)], env, case="again")
            if not out.startswith("no changes"):
                raise SystemExit(f"re-import changed something: {out[:500]}")
            samples["again"].append(seconds)
            samples["dry"].append(timed([*jobctl, "import", "crontab", str(crontab), "--dry-run"], env, case="dry")[0])
            samples["list"].append(timed([*jobctl, "jobs", "list", "--json", "--all"], env, case="list")[0])
            samples["floor"].append(timed([python, "-c", "pass"], env, case="floor")[0])
            log(f"round {round_index + 1}: first import {samples['first'][-1]:.2f} s")
    figures = {name: median(values) for name, values in samples.items()}
    cpu = {name: median(values) for name, values in CPU.items()}
    cases = [
        ("first", "import, 1,000 creates"),
        ("again", "re-import, no changes"),
        ("dry", "import --dry-run (all unchanged)"),
        ("list", "peer: jobs list --json --all (1,000 jobs)"),
        ("floor", "floor: python -c pass"),
    ]
    rows: list[list[Any]] = [
        [label, f"{figures[case]:.2f} s", f"{cpu[case]:.2f} s", ratio(figures[case], figures["list"])]
        for case, label in cases
    ]
    print(md_table(["case (median)", "wall time", "CPU time", "wall x jobs list"], rows))
    met = figures["first"] <= TARGET_SECONDS and figures["again"] <= TARGET_SECONDS
    print(f"\ntarget: import of {LINES} lines <= {TARGET_SECONDS:.0f} s end to end: {'met' if met else 'MISSED'}")
    save_results("import_crontab", {"samples": samples, "medians": figures, "cpu": cpu, "target_met": met})
    return 0 if met else EXIT_TARGET_MISSED


if __name__ == "__main__":
    run_benchmark(main)
