"""Why a SQLite store cannot be opened, in words a sysadmin can act on: SQLite says "unable to
open database file" for a file this user may not read, a directory it may not enter and a
directory that is not there alike."""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable
from pathlib import Path

import pytest

from jobctl.errors import StoreError
from jobctl.store import open_store

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="switching to another user needs root")


def _as_nobody(action: Callable[[], None]) -> str:
    """The error ``action`` raises in a child process that runs as ``nobody``."""
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
        except StoreError as exc:
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


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A directory every user may enter (pytest's own base directory is root's alone)."""
    place = Path(os.environ.get("TMPDIR", "/tmp")) / f"jobctl-unopenable-{os.getpid()}-{tmp_path.name}"
    place.mkdir(mode=0o755)
    place.chmod(0o755)
    yield place
    for path in sorted(place.rglob("*"), reverse=True):
        path.chmod(0o700)
        path.unlink() if path.is_file() else path.rmdir()
    place.rmdir()


def test_a_store_file_this_user_may_not_read(shared: Path) -> None:
    path = shared / "root.db"
    open_store(f"sqlite:///{path}").close()
    path.chmod(0o600)
    message = _as_nobody(lambda: open_store(f"sqlite:///{path}").close())
    assert message == f"cannot open store {path}: permission denied: this user may not read and write it"


def test_a_directory_this_user_may_not_enter(shared: Path) -> None:
    private = shared / "private"
    private.mkdir(mode=0o700)
    open_store(f"sqlite:///{private / 'x.db'}").close()
    message = _as_nobody(lambda: open_store(f"sqlite:///{private / 'x.db'}").close())
    assert message.startswith(f"cannot open store {private / 'x.db'}: permission denied: "), message
    assert f"may not enter {private}" in message, message
