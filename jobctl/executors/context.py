"""Where and how a run's process starts when its job asks for more than the defaults
(``workingDirectory``, ``umask``, ``nice``): docs/run-context.md.

``posix_spawn`` cannot change a child's directory, umask or nice value, and doing it in the
daemon between fork and exec needs a ``preexec_fn`` (slow, and unsafe in a threaded parent).
So a run that changes any of them starts through ``/bin/sh`` as a small exec wrapper: the shell
changes directory and umask, then ``exec``\\ s the run's own command (through ``nice`` when a
nice value is set), keeping its pid, process group and environment. A run that changes nothing
takes the plain spawn, as before.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass

from jobctl.models import DEFAULT_RUN_PATH

DEFAULT_DIRECTORY = "/"
DEFAULT_UMASK = 0o022

WRAPPER = 'cd -- "$1" || exit 126; umask "$2" || exit 126; shift 2; exec "$@"'
"""The exec wrapper's script: ``$1`` the directory, ``$2`` the umask, then the run's argv."""


@dataclass(frozen=True, kw_only=True)
class RunContext:
    """What a job asks of its run's process; None is the default."""

    working_directory: str | None = None
    umask: str | None = None
    nice: int | None = None


def prepare(argv: Sequence[str], context: RunContext) -> list[str] | str:
    """The argv that starts ``argv`` in ``context``, or an error message when it cannot.

    The plain ``argv`` when nothing differs from what the daemon's children get anyway.
    """
    directory = context.working_directory or DEFAULT_DIRECTORY
    mask = int(context.umask, 8) if context.umask is not None else DEFAULT_UMASK
    if directory == DEFAULT_DIRECTORY and mask == daemon_umask() and context.nice is None:
        return list(argv)
    inner = list(argv)
    if context.nice is not None:
        current = os.getpriority(os.PRIO_PROCESS, 0)
        if context.nice < current and os.geteuid() != 0:
            return f"cannot set nice {context.nice}: the daemon runs at {current} and is not root"
        nice = nice_program()
        if nice is None:
            return "cannot set nice: no nice program on the PATH"
        inner = [nice, "-n", str(context.nice - current), "--", *inner]
    return ["/bin/sh", "-c", WRAPPER, "jobctl-run", directory, f"{mask:04o}", *inner]


def missing_directory(context: RunContext) -> str | None:
    """Why the run cannot start in its directory (checked at the moment it starts), or None."""
    directory = context.working_directory
    if directory is None or os.path.isdir(directory):
        return None
    return f"working directory {directory} does not exist"


@functools.cache
def daemon_umask() -> int:
    """This process's umask, read once (reading it means setting it; nothing else creates files yet)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@functools.cache
def nice_program() -> str | None:
    return shutil.which("nice", path=DEFAULT_RUN_PATH)
