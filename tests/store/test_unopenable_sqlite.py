"""Why a SQLite store cannot be opened, in words a sysadmin can act on: SQLite says "unable to
open database file" for a file this user may not read, a directory it may not enter and a
directory that is not there alike."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jobctl.errors import StoreError
from jobctl.store import open_store
from tests.as_nobody import error_as_nobody, needs_root

pytestmark = needs_root


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
    message = error_as_nobody(lambda: open_store(f"sqlite:///{path}").close(), StoreError)
    assert message == f"cannot open store {path}: permission denied: this user may not read and write it"


def test_a_directory_this_user_may_not_enter(shared: Path) -> None:
    private = shared / "private"
    private.mkdir(mode=0o700)
    open_store(f"sqlite:///{private / 'x.db'}").close()
    message = error_as_nobody(lambda: open_store(f"sqlite:///{private / 'x.db'}").close(), StoreError)
    assert message.startswith(f"cannot open store {private / 'x.db'}: permission denied: "), message
    assert f"may not enter {private}" in message, message
