"""Cost of the exec wrapper of runs that set workingDirectory/umask/nice (docs/run-context.md).

Spawns ``true`` N times one after another, each waited for, through jobctl's own spawn: the
plain argv (the path every run that changes nothing takes), the wrapper with a directory and a
umask, and the wrapper with a nice value too. Prints spawns per second of each and the ratio.

    python bench/run_context.py [N]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jobctl.executors.context import RunContext, prepare
from jobctl.executors.process import SpawnedProcess, spawn


def rate(argv: list[str], count: int) -> float:
    env = {"PATH": "/usr/bin:/bin"}
    started = time.perf_counter()
    for _ in range(count):
        child = spawn(argv, env=env)
        assert isinstance(child, SpawnedProcess), child
        os.waitpid(child.pid, 0)
        os.close(child.stdout)
        os.close(child.stderr)
    return count / (time.perf_counter() - started)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    directory = tempfile.mkdtemp()
    variants = {
        "plain": prepare(["true"], RunContext()),
        "directory+umask": prepare(["true"], RunContext(working_directory=directory, umask="027")),
        "directory+umask+nice": prepare(["true"], RunContext(working_directory=directory, umask="027", nice=5)),
    }
    plain = 0.0
    for name, argv in variants.items():
        assert isinstance(argv, list)
        per_second = rate(argv, count)
        plain = plain or per_second
        print(f"{name:22} {per_second:8.0f} spawns/s  ({per_second / plain:.2f} x plain)")
    os.rmdir(directory)


if __name__ == "__main__":
    main()
