"""A SQLite store file comes into being whole, or not at all, and a foreign file is never adopted.

A path that does not exist becomes a new store: it is built under a temporary name beside its
final one (schema and all) and then hard-linked into place, which fails if anything appeared
there meanwhile. So no process ever finds a half-made store at the path, two processes creating
the same store at once end up sharing one, and a crash while creating leaves at most a hidden
temporary file, never an empty "store".

That is what lets every *existing* file be held to a strict rule: it must already be a jobctl
store. An empty file, a file that is not SQLite, or a SQLite database without jobctl's tables
is refused and left as it was (see :func:`jobctl.store.schema_version.current_revision`);
before, an empty file given by mistake silently became a new store.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path

from jobctl.errors import StoreError, StoreUnusable
from jobctl.store.database import Database, why_unopenable
from jobctl.store.schema_version import HEAD, upgrade
from jobctl.store.url import SQLITE, StoreUrl

NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS}
"""Errors of ``link()`` on file systems without hard links (FAT, some network mounts)."""

SIDE_FILE_SUFFIXES = ("-wal", "-shm", "-journal")
"""The files SQLite keeps beside a store file: its log, the log's index, a rollback journal."""


def store_file_named(path: str | Path, store_file: Path, *, including_itself: bool) -> str | None:
    """The file of the store at ``store_file`` that ``path`` names, by name or through a link:
    the store itself (if ``including_itself``) or one of SQLite's files beside it; None for any
    other path. A command writing to such a path would overwrite the store, or have SQLite take
    what it wrote for its own log or journal.

    SQLite names its side files after the store file with symlinks resolved (``alias.db`` ->
    ``real/s.db`` logs to ``real/s.db-wal``), so those names count as well as the ones beside
    ``store_file`` as given."""
    stores = dict.fromkeys((str(store_file), os.path.realpath(store_file)))
    for suffix in ("", *SIDE_FILE_SUFFIXES) if including_itself else SIDE_FILE_SUFFIXES:
        for store in stores:
            name = f"{store}{suffix}"
            if os.path.realpath(path) == os.path.realpath(name):
                return name
            if os.path.exists(path) and os.path.exists(name) and os.path.samefile(path, name):
                return name
    return None


_SIDE_FILE_NAMES = {
    "-wal": "the write-ahead log",
    "-shm": "the write-ahead log's shared-memory index",
    "-journal": "the rollback journal",
}
"""What each of :data:`SIDE_FILE_SUFFIXES` is to the database it is named after."""
DATABASE_HEADER = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""
WAL_MAGIC = (bytes.fromhex("377f0682"), bytes.fromhex("377f0683"))
"""The first 4 bytes of a write-ahead log (big-endian; the last bit says the checksums' byte order)."""
JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")
"""The first 8 bytes of a rollback journal that holds a transaction."""


def sqlite_file_at(path: str | Path) -> str | None:
    """What SQLite file ``path`` is, as a message says it ("a SQLite database", "the
    write-ahead log of the SQLite database /var/lib/jobctl/jobctl.db"), or None for any other.

    Told by its first bytes (a database, a write-ahead log, a rollback journal: through
    symlinks, and so by any hard link too), or by its name: ``-wal``, ``-shm`` or ``-journal``
    after the name of a SQLite database, as given or with symlinks resolved, names that file
    whether it exists yet or not. This needs no store URL: it is how a command that writes a
    file of its own (an export through ``--api``, where the daemon's store is not known) keeps
    from overwriting any SQLite file, the one a daemon has open included.
    """
    for name in dict.fromkeys((str(path), os.path.realpath(path))):
        for suffix, what in _SIDE_FILE_NAMES.items():
            base = name.removesuffix(suffix)
            if base != name and base and _kind_by_content(base) == "database":
                return f"{what} of the SQLite database {base}"
    kind = _kind_by_content(path)
    return None if kind is None else f"a SQLite {kind}"


def _kind_by_content(path: str | Path) -> str | None:
    """ "database", "write-ahead log" or "rollback journal" by the first bytes of the regular
    file at ``path``; None for anything else, or nothing readable there (a FIFO is not opened:
    that would wait for a writer)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as file:
            head = file.read(len(DATABASE_HEADER))
    except (OSError, ValueError):  # ValueError: a NUL in the name
        return None
    if head.startswith(DATABASE_HEADER):
        return "database"
    if head[:4] in WAL_MAGIC:
        return "write-ahead log"
    if head.startswith(JOURNAL_MAGIC):
        return "rollback journal"
    return None


_NOT_FILES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def refuse_other_than_a_file(path: Path) -> None:
    """Refuse a store path that names something other than a regular file (through symlinks).

    SQLite said "unable to open database file" for a directory and "disk I/O error" for a named
    pipe, which read as an outage worth a retry (a daemon was restarted every 2 s for it); and it
    read ``/dev/null`` as an empty file. Nothing there (a dangling symlink included) is left to
    the open, which may yet find it.

    :raises StoreUnusable: naming what is there.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    kind = next((what for test, what in _NOT_FILES if test(mode)), None)
    if kind is not None:
        raise StoreUnusable(f"store {path} is {kind}, not a SQLite file; give the path of a jobctl store (check --db)")


def create_if_missing(path: Path) -> None:
    """Create a complete new store at ``path`` (mode 0600, its folder 0700) unless something is there.

    :raises StoreError: when the folder or file cannot be created or the schema cannot be written.
    """
    if os.path.lexists(path):
        return
    scratch = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    try:
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700)
        os.close(os.open(scratch, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
        _give_to_folder_owner(scratch)
    except OSError as exc:
        blocked = why_unopenable(path) if exc.errno == errno.EACCES else None
        if blocked and "may not enter" in blocked:  # the store may well be there, unseen
            raise StoreError(f"cannot open store {path}: {blocked}") from exc
        raise StoreError(f"cannot create store {path}: {exc.strerror}") from exc
    try:
        _write_schema(scratch, path)
        try:
            link_as_new(scratch, path)  # False: another process made the store first; theirs is kept
        except OSError as exc:
            raise StoreError(f"cannot create store {path}: {exc.strerror}") from exc
    finally:
        remove_with_side_files(scratch)


def link_as_new(scratch: Path, path: Path) -> bool:
    """Give the finished file ``scratch`` the name ``path`` unless something is there; whether it
    did. A hard link never replaces anything, a dangling symlink included. A file system without
    hard links gets a rename when ``path`` is still free (no atomic no-replace rename there: a
    narrow race is left). ``scratch`` keeps its own name too: remove it afterwards.

    :raises OSError: when neither can be made for another reason.
    """
    try:
        os.link(scratch, path)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in NO_HARD_LINKS:
            raise
    if os.path.lexists(path):
        return False
    os.rename(scratch, path)
    return True


def remove_with_side_files(path: Path) -> None:
    """Remove ``path`` and the files SQLite may have left beside it (:data:`SIDE_FILE_SUFFIXES`)."""
    for suffix in ("", *SIDE_FILE_SUFFIXES):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _give_to_folder_owner(scratch: Path) -> None:
    """Root creating a store in another user's folder gives the file to that user, as SQLite does
    for its journal and WAL files. Otherwise a ``jobctl`` command that root runs before the system
    service's first start would leave the service (user ``jobctl``, folder /var/lib/jobctl) a
    store it cannot open."""
    if os.geteuid() != 0:
        return
    folder = scratch.parent.stat()
    if folder.st_uid != 0:
        os.chown(scratch, folder.st_uid, folder.st_gid)


def _write_schema(scratch: Path, path: Path) -> None:
    """The current schema in ``scratch``, in rollback-journal mode so it is all in the one file."""
    from jobctl.store.maintenance import use_incremental_vacuum

    db = Database(StoreUrl(url=f"sqlite:///{scratch}", backend=SQLITE, sqlite_path=scratch))
    try:
        use_incremental_vacuum(scratch)
        upgrade(db, HEAD)
    except StoreError as exc:
        raise StoreError(f"cannot create store {path}: {exc.message}") from exc
    finally:
        db.close()
