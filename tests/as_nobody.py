"""Run a piece of test code as the unprivileged user ``nobody``: root may read and enter
everything, so what jobctl says to a user who may not can only be seen from another user.

A forked child switches its uid and runs the code with the modules already imported (the
interpreter's files may be out of ``nobody``'s reach); it reports through a pipe."""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable

import pytest

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="switching to another user needs root")


def error_as_nobody(action: Callable[[], object], expected: type[BaseException]) -> str:
    """``"no error"``, the message of the ``expected`` error ``action`` raised as ``nobody``, or
    ``"TYPE: message"`` of any other error."""
    nobody = pwd.getpwnam("nobody")
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        os.close(read)
        try:
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            action()
            message = "no error"
        except expected as exc:
            message = str(exc)
        except BaseException as exc:
            message = f"{type(exc).__name__}: {exc}"
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read().decode()
    os.waitpid(child, 0)
    return message
