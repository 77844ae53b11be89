"""Where runs start and what a Python run may import (docs/python-isolation.md).

Every local run starts in ``/`` (``RUN_DIRECTORY``): the process that runs jobs moves there once,
at start-up, because ``posix_spawn`` cannot set a child's directory and a run must not depend on
where the daemon happened to be started. A Python run's interpreter is isolated (``-I``: no
current directory or script folder on ``sys.path``, no ``PYTHON*`` variables, no user site);
its ``sys.path`` is the daemon's own, minus the daemon's starting directory (unless that directory
was put on ``PYTHONPATH`` on purpose), so a ``json.py`` lying in that directory cannot shadow
the standard library while the configured task module stays importable.
"""

from __future__ import annotations

import functools
import os
import sys

RUN_DIRECTORY = "/"

PYTHON_PATH_VARIABLE = "JOBCTL_PYTHON_PATH"
"""How the daemon hands its import path to a Python run (``os.pathsep``-separated)."""

BOOTSTRAP = (
    "import os, sys; "
    f"sys.path[:] = [p for p in os.environ.pop({PYTHON_PATH_VARIABLE!r}, '').split(os.pathsep) if p]; "
    "from jobctl.executors.python_runner import main; sys.exit(main(sys.argv))"
)
"""What ``python -I -c`` runs: set the import path, then the runner (argv[1] is the callable)."""


def python_argv(handler_path: str) -> list[str]:
    """The command line of a Python run of ``handler_path``.

    ``-u``: the callable's stdout and stderr are unbuffered. Its stdout is a pipe, which Python
    buffers in blocks: ``print()`` output could not be read while the run went on, came after
    what stderr said meanwhile, and was lost when a timeout or a cancel killed the interpreter.
    (``-I`` ignores ``PYTHONUNBUFFERED``, so it has to be the option.)
    """
    return [sys.executable, "-I", "-u", "-c", BOOTSTRAP, handler_path]


@functools.cache
def child_import_path() -> str:
    """The daemon's ``sys.path`` without its starting directory, joined for the environment.

    Read once, before :func:`enter_run_directory` moves the process: Python put the starting
    directory on ``sys.path`` (as ``''`` or as its absolute path) because the daemon was started
    with ``python -m`` or ``-c``; a directory named in ``PYTHONPATH`` is kept all the same.
    """
    start = os.path.realpath(os.getcwd())
    chosen = {os.path.realpath(entry) for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry}
    kept = []
    for entry in sys.path:
        if not entry:
            continue
        real = os.path.realpath(entry)
        if real == start and real not in chosen:
            continue
        kept.append(os.path.abspath(entry))  # a relative entry would mean something else from /
    return os.pathsep.join(kept)


def enter_run_directory() -> None:
    """Move this process to :data:`RUN_DIRECTORY`, where every run it spawns then starts.

    Call once, when everything relative (the store's path, the config file's) has been resolved.
    """
    child_import_path()
    os.chdir(RUN_DIRECTORY)
