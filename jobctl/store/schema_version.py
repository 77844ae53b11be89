"""Schema versions: check on every open (cheap), upgrade with Alembic only when needed.

Every open reads ``alembic_version`` through the DB-API. Only a store that is new or older
than this jobctl imports SQLAlchemy and Alembic to migrate it, so ordinary CLI calls stay fast.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from jobctl.errors import StoreError, StoreVersionError
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


def current_revision(db: Database, *, create: bool = True) -> str | None:
    """The store's revision, or None for an empty Postgres schema (a new store).

    :raises StoreError: when the database is not a jobctl store: on SQLite, any existing file
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
            raise StoreError(_not_a_sqlite_store(db, tables, create=create))
        if tables & {"jobs", "executions"}:
            raise StoreError(f"{db.url.redacted()} holds tables but is not a jobctl store")
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


def ensure_current(db: Database, *, create: bool = True, migrate: bool = True) -> str:
    """Bring the store to :data:`HEAD`, creating it if empty; the revision it has now.

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
        return HEAD
    if revision is not None and revision not in SCHEMA_REVISIONS:
        raise StoreVersionError(
            f"store {db.url.redacted()} has schema version {revision}, newer than this jobctl knows "
            f"(up to {HEAD}); upgrade jobctl to use it"
        )
    if revision is not None and not migrate:
        return revision
    with _sqlite_upgrade_lock(db):
        upgrade(db, HEAD)
    return HEAD


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


def upgrade(db: Database, target: str) -> None:
    """Run the Alembic migrations up to ``target`` on the store's own URL."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    log.info("upgrading store %s to schema %s", db.url.redacted(), target)
    engine = create_engine(db.url.sqlalchemy_url())
    try:
        with engine.begin() as connection:
            if not db.is_sqlite:
                # One upgrader at a time when several daemons start together on Postgres.
                connection.execute(text("SELECT pg_advisory_xact_lock(727274)"))
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            config.attributes["connection"] = connection
            command.upgrade(config, target)
    except Exception as exc:
        if isinstance(exc, StoreError):
            raise
        raise StoreError(f"cannot upgrade store {db.url.redacted()}: {str(exc).splitlines()[0]}") from exc
    finally:
        engine.dispose()
