"""Schema versions: check on every open (cheap), upgrade with Alembic only when needed.

Every open reads ``alembic_version`` through the DB-API. Only a store that is new or older
than this jobctl imports SQLAlchemy and Alembic to migrate it, so ordinary CLI calls stay fast.
"""

from __future__ import annotations

import fcntl
import logging
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobctl.errors import StoreError, StoreUnusable, StoreVersionError
from jobctl.store.database import Database

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SCHEMA_REVISIONS = tuple(
    sorted(path.name.partition("_")[0] for path in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
)
"""Every Alembic revision this jobctl knows, oldest first; the last is the head. Read from the
scripts' file names (``0007_job_labels.py``), so a new revision is one new file; a test checks
that they match the scripts' own chain."""

HEAD = SCHEMA_REVISIONS[-1]

UPGRADE_UNLOCKED = frozenset({"leases", "lease_terms", "scheduler_instances", "store_state"})
"""Tables an upgrade on Postgres leaves unlocked: the lease and the record of its terms,
heartbeats and the change counter, which the daemons still running write on their own connection
with a short lock timeout. A leader kept from renewing for the length of a migration would lose
its lease."""
UPGRADE_LOCK_TIMEOUT = "1s"
"""How long an upgrade waits for its table locks before it gives way and tries again."""
UPGRADE_RETRY_SECONDS = 0.5
"""Pause before the next attempt (up to twice this, at random, so two upgraders do not keep meeting)."""
UPGRADE_BUSY_SECONDS = 60.0
"""How long an upgrade keeps trying while the store's tables are in use before it fails."""
_BUSY_SQLSTATES = frozenset({"55P03", "40P01"})
"""lock_not_available (the lock timeout passed) and deadlock_detected: the attempt was rolled back whole."""


def current_revision(db: Database, *, create: bool = True) -> str | None:
    """The store's revision, or None for an empty Postgres schema (a new store).

    :raises StoreUnusable: when the database is not a jobctl store: on SQLite, any existing file
        without jobctl's tables (new SQLite stores are created whole beforehand, see
        :mod:`jobctl.store.sqlite_file`); on Postgres, a schema holding a foreign ``jobs`` or
        ``executions`` table (a schema may be shared with other applications). ``create``: whether
        the caller would create a missing store (its message then says so).
    """
    if db.is_sqlite:
        tables = {row["name"] for row in db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")}
    else:
        rows = db.fetch_all(
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        tables = {row["name"] for row in rows}
    if "alembic_version" not in tables:
        if db.is_sqlite:
            raise StoreUnusable(_not_a_sqlite_store(db, tables, create=create))
        if tables & {"jobs", "executions"}:
            raise StoreUnusable(f"{db.url.redacted()} holds tables but is not a jobctl store")
        return None
    revision = db.scalar("SELECT version_num FROM alembic_version")
    return str(revision) if revision is not None else None


def _not_a_sqlite_store(db: Database, tables: set[str], *, create: bool) -> str:
    path = db.url.sqlite_path
    if path is not None and path.stat().st_size == 0:
        what = "is an empty file"
    elif tables:
        what = "holds tables"
    else:
        what = "is a SQLite database without jobctl's tables"
    # the store commands never create a store: the other way out is not theirs to offer
    fix = "give the path of a jobctl store"
    if create:
        fix += ", or one that does not exist yet to create a new store"
    return f"store {path} {what} but is not a jobctl store; it was left untouched ({fix})"


@dataclass(frozen=True, kw_only=True)
class SchemaState:
    """What opening a store found and did to its schema."""

    revision: str
    """The schema version the store has now."""
    upgraded_from: str | None = None
    """The version this open upgraded it from; None when it upgraded nothing (the store was
    current, new, or left as it was). An upgrade cannot be undone and shuts out every earlier
    release, so the caller tells the user: :func:`upgrade_notice`."""


def upgrade_notice(upgraded_from: str, revision: str) -> str:
    """The one sentence that tells a user this jobctl upgraded the store, and what that costs.

    The store layer writes nothing to the terminal: the CLI prints it on stderr, the daemon logs it.
    """
    return (
        f"upgraded the store's schema from {upgraded_from} to {revision} (jobctl releases before this "
        "one, daemons included, can no longer open it; docs/upgrading.md)"
    )


def ensure_current(db: Database, *, create: bool = True, migrate: bool = True) -> SchemaState:
    """Bring the store to :data:`HEAD`, creating it if empty; its revision now, and the one it
    was upgraded from.

    ``create=False``: an empty Postgres schema is not made a store. ``migrate=False``: an older
    store stays as it is (its revision is returned).

    :raises StoreError: when ``create`` is false and there is no store.
    :raises StoreVersionError: when the store was written by a newer jobctl.
    """
    revision = current_revision(db, create=create)
    if revision is None and not create:
        raise StoreError(f"no jobctl store in {db.url.redacted()} (its schema holds no jobctl tables; check --db)")
    db.use_wal()
    if revision == HEAD:
        return SchemaState(revision=HEAD)
    if revision is not None and revision not in SCHEMA_REVISIONS:
        raise StoreVersionError(
            f"store {db.url.redacted()} has schema version {revision}, newer than this jobctl knows "
            f"(up to {HEAD}); upgrade jobctl to use it"
        )
    if revision is not None and not migrate:
        return SchemaState(revision=revision)
    with _sqlite_upgrade_lock(db):
        found = upgrade(db, HEAD)
    # ``found`` was read under the upgrade's lock: a store another process upgraded meanwhile is not ours to report.
    return SchemaState(revision=HEAD, upgraded_from=found if found not in (None, HEAD) else None)


@contextmanager
def _sqlite_upgrade_lock(db: Database) -> Iterator[None]:
    """Serialise upgrades of one SQLite file across processes (Postgres uses an advisory lock).

    The lock is taken on the store's folder, never on the database file: closing any
    descriptor of that file would drop the POSIX locks SQLite itself holds on it.
    """
    if not db.is_sqlite or db.url.sqlite_path is None:
        yield
        return
    fd = os.open(db.url.sqlite_path.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def upgrade(db: Database, target: str) -> str | None:
    """Run the Alembic migrations up to ``target`` on the store's own URL; the revision the store
    had when they began (None for a new store), read in their transaction, under their locks.

    On Postgres, other daemons (of this release or the previous one, in a rolling upgrade) may
    go on using the store meanwhile. The migrations then run in one transaction that first locks
    every jobctl table they may change at once (:func:`_lock_for_upgrade`): a migration that
    took a weak lock on a table and asked for a stronger one later could deadlock with a
    daemon's transaction that read the table and then wrote to it. Until those locks are had,
    the attempt gives way and is made again (docs/upgrading.md).
    """
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    log.info("upgrading store %s to schema %s", db.url.redacted(), target)
    engine = create_engine(db.url.sqlalchemy_url())
    if db.is_sqlite:
        _one_sqlite_transaction(engine)
    give_up = time.monotonic() + UPGRADE_BUSY_SECONDS
    waited = False
    try:
        while True:
            try:
                with engine.begin() as connection:
                    if not db.is_sqlite:
                        _lock_for_upgrade(connection, target)
                    config = Config()
                    config.set_main_option("script_location", str(MIGRATIONS_DIR))
                    config.attributes["connection"] = connection
                    found = MigrationContext.configure(connection).get_current_revision()
                    command.upgrade(config, target)
                return found
            except OperationalError as exc:
                if getattr(exc.orig, "sqlstate", None) not in _BUSY_SQLSTATES:
                    raise
                if time.monotonic() >= give_up:
                    raise StoreError(
                        f"cannot upgrade store {db.url.redacted()}: its tables stayed in use by other sessions "
                        f"for {UPGRADE_BUSY_SECONDS:.0f}s (a long transaction, a VACUUM?); nothing was changed, "
                        "start again to retry"
                    ) from exc
                if not waited:
                    log.info(
                        "store busy: other sessions' transactions use its tables; the upgrade tries again"
                        " until they end (for up to %.0fs)",
                        UPGRADE_BUSY_SECONDS,
                    )
                    waited = True
                time.sleep(UPGRADE_RETRY_SECONDS * (1 + random.random()))
    except Exception as exc:
        if isinstance(exc, StoreError):
            raise
        raise StoreError(f"cannot upgrade store {db.url.redacted()}: {str(exc).splitlines()[0]}") from exc
    finally:
        engine.dispose()


def _one_sqlite_transaction(engine: Any) -> None:
    """Make ``engine.begin()`` one SQLite transaction that holds every statement of the upgrade.

    Python's ``sqlite3`` module (below SQLAlchemy) opens a transaction only before an INSERT,
    UPDATE or DELETE: a ``CREATE INDEX`` or ``DROP INDEX`` before the first of them committed at
    once, so an upgrade killed half way (SIGKILL, a power cut, a full disk) left a store half
    upgraded at its old revision, and the next start ran the migration again on top of it. SQLite's
    DDL is transactional: with the module's own transaction handling turned off and ``BEGIN
    IMMEDIATE`` (the write lock at once) issued when SQLAlchemy begins, the whole upgrade and
    its new revision commit together, or not at all (SQLAlchemy's documented recipe for
    pysqlite).
    """
    from sqlalchemy import event

    def no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    def begin_immediate(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(engine, "connect", no_implicit_transactions)
    event.listen(engine, "begin", begin_immediate)


def _lock_for_upgrade(connection: Any, target: str) -> None:
    """Take the upgrade's locks on Postgres, in the transaction of the migrations.

    First the advisory lock that lets one upgrader at a time in (waited for as long as another
    one upgrades), then, unless that one left the store at ``target``, ACCESS EXCLUSIVE on every
    jobctl table there is but those of the lease (:data:`UPGRADE_UNLOCKED`), waiting at most
    :data:`UPGRADE_LOCK_TIMEOUT`: while it waits, every other session's statement on those
    tables waits behind it.

    :raises sqlalchemy.exc.OperationalError: lock_not_available or deadlock_detected, when the
        tables are in use; the caller tries again.
    """
    from sqlalchemy import text

    from jobctl.store.maintenance import TABLES

    # One upgrader at a time when several daemons start together.
    connection.execute(text("SELECT pg_advisory_xact_lock(727274)"))
    present = {
        str(name)
        for name in connection.execute(
            text("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
        ).scalars()
    }
    if "alembic_version" not in present:
        return  # a new store: nothing to wait for
    if connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == target:
        return  # upgraded by the daemon that held the advisory lock before
    tables = [name for name in TABLES if name in present and name not in UPGRADE_UNLOCKED]
    connection.execute(text(f"SET LOCAL lock_timeout = '{UPGRADE_LOCK_TIMEOUT}'"))
    connection.execute(text(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE"))
    connection.execute(text("SET LOCAL lock_timeout TO DEFAULT"))
