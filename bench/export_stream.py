"""``executions export --format ndjson`` of many executions, on the store and through a daemon's
API, by this tree and by an earlier one (``--before REF``, default ``main``), on each backend.

Seeds ``--executions`` runs of ``--jobs`` jobs with bench/scale.py's seeding (inside the
database; nothing due while measuring), then starts two daemons with their API on the same
store: one of this tree and one of REF (its source from ``git archive``, run by the same
interpreter). Each round runs, one after the other: REF's CLI through REF's daemon
(``--api``), this tree's CLI through this tree's daemon, and both CLIs on the store (the local
export, the peer); ``--rounds`` rounds, the median of each. Every export must write the same
``--executions`` lines, each id once, and all four the same bytes.

Usage:
  python bench/export_stream.py [--executions 200000] [--backends sqlite,postgres] [--before main] [--rounds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tarfile
import time
import uuid
from pathlib import Path
from typing import Any

import _common as c
import scale


def before_tree(ref: str) -> tuple[Path, str]:
    """REF's jobctl package, unpacked once under bench/tmp/ (its commit's short hash in the name)."""
    commit = subprocess.run(["git", "-C", str(c.ROOT), "rev-parse", "--short", ref], capture_output=True, text=True,
                            check=True).stdout.strip()  # fmt: skip
    folder = c.BENCH / "tmp" / f"before-{commit}"
    if not (folder / "jobctl").is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(c.ROOT), "archive", commit, "jobctl"], capture_output=True,
                                 check=True).stdout  # fmt: skip
        import io

        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(folder / "jobctl")], check=True)
    return folder, commit


def launcher(folder: Path, name: str, source: Path | None) -> Path:
    """A ``jobctl`` executable that runs this interpreter on ``source``'s package (None: the
    venv's own install), so both trees start the same way."""
    path = folder / name
    path_line = f"PYTHONPATH={source} " if source is not None else ""
    path.write_text(f'#!/bin/sh\n{path_line}exec {sys.executable} -P -m jobctl "$@"\n')
    path.chmod(0o755)
    return path


def serves_stream(port: int, token: str) -> bool:
    """Whether the daemon on ``port`` answers ``GET /executions/stream`` (REF's may not)."""
    import urllib.error
    import urllib.request

    url = f"http://127.0.0.1:{port}/api/v1/scheduler/executions/stream?status=running"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return bool(answer.status == 200 and answer.headers["content-type"].startswith("application/x-ndjson"))
    except urllib.error.HTTPError:
        return False


def export_once(jobctl: Path, args: list[str], target: Path) -> float:
    begin = time.perf_counter()
    done = subprocess.run([str(jobctl), *args, "executions", "export", "--format", "ndjson", "-o", str(target)],
                          capture_output=True, env=c.run_env(), timeout=1800)  # fmt: skip
    seconds = time.perf_counter() - begin
    if done.returncode != 0:
        raise c.BenchError(f"{jobctl.name} {' '.join(args)} executions export failed: {done.stderr.decode()[-500:]}")
    return seconds


def check(target: Path, count: int) -> str:
    """The export's digest, once it holds ``count`` lines with distinct ids. :raises BenchError:"""
    data = target.read_bytes()
    lines = data.splitlines()
    ids = {line[8:44] for line in lines}  # '{"id": "UUID", ...': the id's 36 characters
    if len(lines) != count or len(ids) != count:
        raise c.BenchError(f"{target.name}: {len(lines):,} lines, {len(ids):,} ids, not the {count:,} seeded")
    return hashlib.sha256(data).hexdigest()


def measure(backend: str, url: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    from jobctl.service.tokens import create_token
    from jobctl.store import open_store

    c.log(f"{backend}: seeding {args.jobs:,} jobs and {args.executions:,} executions")
    scale.seed(url, args.jobs, args.executions, args.days)
    store = open_store(url)
    token, _ = create_token(store, f"bench-{uuid.uuid4().hex[:6]}", "viewer")
    store.close()
    source, _ = before_tree(args.before)
    commands = {"before": launcher(folder, "jobctl-before", source), "after": launcher(folder, "jobctl-after", None)}
    config = scale.history_config(folder, 36500)  # the daemons' pruners expire nothing
    daemons: dict[str, c.Daemon] = {}
    ports: dict[str, int] = {}
    try:
        for name, jobctl in commands.items():
            ports[name] = scale.free_port()
            daemons[name] = c.Daemon(jobctl, url, config, folder, api=True, port=ports[name], name=name)
            daemons[name].wait_started(timeout=120)
        for daemon in daemons.values():
            scale._wait_idle(daemon.pid)
        streams = {name: serves_stream(port, token) for name, port in ports.items()}
        c.log(f"{backend}: GET /executions/stream served: {streams}")
        if not streams["after"]:
            raise c.BenchError("this tree's daemon does not serve GET /executions/stream")
        runs: dict[str, list[float]] = {key: [] for key in ("before_api", "after_api", "before_local", "after_local")}
        loads: list[float] = []
        digests: set[str] = set()
        for round_ in range(args.rounds + 1):  # the first round warms caches and is not counted
            loads.append(os.getloadavg()[0])
            for key in runs:
                tree, way = key.split("_")
                where = (["--api", f"http://127.0.0.1:{ports[tree]}", "--token", token] if way == "api"
                         else ["--db", url])  # fmt: skip
                target = folder / f"{key}.ndjson"
                seconds = export_once(commands[tree], [*where, "--config", str(config)], target)
                digests.add(check(target, args.executions))
                target.unlink()
                if round_:
                    runs[key].append(seconds)
            done = ", ".join(f"{key} {values[-1]:.2f}s" for key, values in runs.items()) if round_ else "warm-up"
            c.log(f"{backend}: round {round_}: {done}")
        if len(digests) != 1:
            raise c.BenchError(f"{backend}: the exports differ ({len(digests)} different files)")
        problems = [line for daemon in daemons.values() for line in daemon.problems()]
        if problems:
            raise c.BenchError(f"{backend}: the daemons logged problems:\n" + "\n".join(problems[:10]))
    finally:
        for daemon in daemons.values():
            daemon.stop()
    return {"median": {key: c.median(values) for key, values in runs.items()}, "runs": runs,
            "load": (min(loads), max(loads)), "streams": streams}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--executions", type=int, default=200_000)
    parser.add_argument("--jobs", type=int, default=1_000)
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--before", default="main", help="the git revision measured as 'before'")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    _, commit = before_tree(args.before)
    args.before = commit  # the same tree on every backend, however the branch moves meanwhile
    backends = [b for b in args.backends.split(",") if b == "sqlite" or c.pg_available()]
    c.print_header(f"executions export --format ndjson of {args.executions:,} runs, before ({commit}) and after")
    results: dict[str, dict[str, Any]] = {}
    for backend in backends:
        with c.temp_dir("jobctl-export-") as folder, scale.url_maker(backend, argparse.Namespace(store=None),
                                                                      tag="export")(folder / "export.db") as url:  # fmt: skip
            results[backend] = measure(backend, url, folder, args)
    rows = []
    for backend, found in results.items():
        m = found["median"]
        rows.append([backend, c.fmt(m["before_api"], 2), c.fmt(m["after_api"], 2),
                     c.ratio(m["before_api"], m["after_api"]), c.fmt(m["before_local"], 2), c.fmt(m["after_local"], 2),
                     c.ratio(m["after_api"], m["after_local"]), "{:.1f}-{:.1f}".format(*found["load"])])  # fmt: skip
    print(c.md_table(["backend", "--api before (s)", "--api after (s)", "before / after", "local before (s)",
                      "local after (s)", "--api after / local after", "load"], rows))  # fmt: skip
    c.save_results("export_stream", {"args": vars(args), "before": commit, "results": results})
    return 0


if __name__ == "__main__":
    c.run_benchmark(main)
