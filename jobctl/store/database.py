"""One DB-API connection per thread, the same small surface for SQLite and Postgres.

SQL is written once with ``:name`` parameters and portable syntax (``ON CONFLICT``,
``RETURNING``, ``LIMIT/OFFSET``); this module adapts parameter style, timestamps and driver
errors. Driver exceptions are translated into :mod:`jobctl.errors` here and nowhere else.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jobctl.errors import StoreError
from jobctl.store.url import SQLITE, StoreUrl

Row = dict[str, Any]

SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a writer waits for another process's transaction before giving up."""


PG_CONNECTION_DEFAULTS = {
    "connect_timeout": "5",
    "application_name": "jobctl",
    "keepalives": "1",
    "keepalives_idle": "5",
    "keepalives_interval": "2",
    "keepalives_count": "3",
    "tcp_user_timeout": "10000",
}
"""libpq settings: a connection to a vanished server is noticed within about 10 s, not hours."""

PG_SESSION_SETTINGS = {"idle_in_transaction_session_timeout": "10s", "lock_timeout": "5s"}
"""A frozen (SIGSTOPped) or cut-off process cannot hold locks, such as the lease row, for long."""


class UniqueViolation(Exception):
    """A write hit a unique constraint; callers turn it into a domain error."""


class Database:
    """Connections to one store, one per thread, opened lazily.

    :raises StoreError: when the store cannot be opened, read or written.
    """

    def __init__(self, url: StoreUrl) -> None:
        self.url = url
        self.is_sqlite = url.backend == SQLITE
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()

    # -- connections ----------------------------------------------------------------------

    def connection(self) -> Any:
        """This thread's connection, opened on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect_sqlite() if self.is_sqlite else self._connect_postgres()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection this object opened (from any thread)."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        self._local = threading.local()

    def _connect_sqlite(self) -> sqlite3.Connection:
        path = self.url.sqlite_path
        assert path is not None
        _ensure_sqlite_file(path)
        try:
            conn = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA journal_mode").fetchone()
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise _sqlite_error(exc, path) from exc
        return conn

    def use_wal(self) -> None:
        """Switch a SQLite store to write-ahead logging (kept in the file; readers never block writers).

        Called only once the file is known to be a jobctl store, so a wrong path is left untouched.
        """
        if not self.is_sqlite:
            return
        try:
            conn = self.connection()
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc

    def _connect_postgres(self) -> Any:
        try:
            import psycopg
            from psycopg.rows import dict_row
        except ImportError as exc:  # pragma: no cover - psycopg is a dependency
            raise StoreError("the Postgres driver psycopg is not installed") from exc
        info: dict[str, Any] = {**PG_CONNECTION_DEFAULTS, **(self.url.pg_conninfo or {})}
        try:
            conn = psycopg.connect(autocommit=True, row_factory=dict_row, **info)
            for setting, value in PG_SESSION_SETTINGS.items():
                conn.execute(f"SET {setting} = '{value}'")
            return conn
        except psycopg.Error as exc:
            raise StoreError(f"cannot open store {self.url.redacted()}: {_first_line(exc)}") from exc

    def _discard_if_broken(self) -> None:
        """Forget this thread's Postgres connection once it is unusable, so the next call reconnects."""
        conn = getattr(self._local, "conn", None)
        if conn is None or self.is_sqlite or not (conn.closed or conn.broken):
            return
        self._local.conn = None
        with self._lock:
            if conn in self._all:
                self._all.remove(conn)
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - it is already broken
            pass

    # -- statements -----------------------------------------------------------------------

    def fetch_all(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run a query and return its rows as dicts."""
        cursor = self._execute(sql, params)
        if self.is_sqlite:
            return [dict(row) for row in cursor.fetchall()]
        return list(cursor.fetchall())

    def fetch_one(self, sql: str, params: Mapping[str, Any] | None = None) -> Row | None:
        """The first row of a query, or None."""
        rows = self.fetch_all(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        row = self.fetch_one(sql, params)
        return next(iter(row.values())) if row else None

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """Run a statement and return the number of rows it changed."""
        return int(self._execute(sql, params).rowcount)

    def _execute(self, sql: str, params: Mapping[str, Any] | None) -> Any:
        conn = self.connection()
        values = {key: self._adapt(value) for key, value in (params or {}).items()}
        try:
            if self.is_sqlite:
                return conn.execute(sql, values)
            return conn.execute(_to_pyformat(sql), values, prepare=True)
        except Exception as exc:
            self._discard_if_broken()
            raise self._translate(exc) from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction; on SQLite it takes the write lock at once (no upgrade deadlock).

        Nested use joins the outer transaction.
        """
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth = depth
            return
        conn = self.connection()
        self._local.depth = 1
        try:
            if self.is_sqlite:
                yield from self._sqlite_transaction(conn)
            else:
                yield from self._postgres_transaction(conn)
        finally:
            self._local.depth = 0

    def _sqlite_transaction(self, conn: sqlite3.Connection) -> Iterator[None]:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise self._translate(exc) from exc

    def _postgres_transaction(self, conn: Any) -> Iterator[None]:
        try:
            with conn.transaction():
                yield
        except Exception as exc:
            self._discard_if_broken()
            if isinstance(exc, (UniqueViolation, StoreError)) or not _is_driver_error(exc):
                raise
            raise self._translate(exc) from exc

    # -- values ---------------------------------------------------------------------------

    def _adapt(self, value: Any) -> Any:
        if isinstance(value, datetime) and self.is_sqlite:
            return format_sqlite_time(value)
        return value

    def _translate(self, exc: Exception) -> Exception:
        if isinstance(exc, (UniqueViolation, StoreError)):
            return exc
        if isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc):
            return UniqueViolation(str(exc))
        if isinstance(exc, sqlite3.Error):
            return _sqlite_error(exc, self.url.sqlite_path)
        if type(exc).__name__ == "UniqueViolation":
            return UniqueViolation(str(exc))
        if _is_driver_error(exc):
            return StoreError(f"store {self.url.redacted()}: {_first_line(exc)}")
        return exc


def to_utc(value: Any) -> datetime | None:
    """A stored timestamp (text on SQLite, timestamptz on Postgres) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_sqlite_time(value: datetime) -> str:
    """Fixed-width UTC text, so that SQLite compares timestamps correctly as strings."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")


@lru_cache(maxsize=512)
def _to_pyformat(sql: str) -> str:
    escaped = sql.replace("%", "%%")
    return re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", r"%(\1)s", escaped)


def _is_driver_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("psycopg")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _ensure_sqlite_file(path: Path) -> None:
    """Create the store file (0600) and its folder (0700) if missing."""
    if path.exists():
        return
    try:
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700)
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
        os.close(fd)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(f"cannot create store {path}: {exc.strerror}") from exc


def _sqlite_error(exc: sqlite3.Error, path: Path | None) -> StoreError:
    text = str(exc)
    if "not a database" in text or "malformed" in text:
        return StoreError(f"store {path} is not a usable SQLite database ({text})")
    if "readonly" in text or "read-only" in text:
        return StoreError(f"store {path} is read-only; nothing was written")
    if "unable to open" in text:
        return StoreError(f"cannot open store {path}: {text}")
    if "locked" in text or "busy" in text:
        return StoreError(f"store {path} is busy (another process holds a long write); try again")
    return StoreError(f"store {path}: {text}")
