"""Connections to the store, the same small surface for SQLite and Postgres.

SQLite: one connection per thread (cheap, file-local). Postgres: a bounded pool
(``psycopg_pool``), borrowed per statement or per transaction, so a daemon with many run
threads holds a handful of server connections, not one per thread. :meth:`Database.dedicated`
gives the leader lease a connection of its own that never waits for the pool
(docs/lease-connection.md).

SQL is written once with ``:name`` parameters and portable syntax (``ON CONFLICT``,
``RETURNING``, ``LIMIT/OFFSET``); this module adapts parameter style, timestamps and driver
errors. Driver exceptions are translated into :mod:`jobctl.errors` here and nowhere else.
"""

from __future__ import annotations

import os
import re
import select
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from jobctl.errors import StoreBusy, StoreDamaged, StoreError, StoreUnavailable, StoreUnusable
from jobctl.redaction import redact
from jobctl.store.url import SQLITE, StoreUrl

Row = dict[str, Any]
_T = TypeVar("_T")

SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a writer waits for another process's transaction before giving up."""

SQLITE_WAL_LIMIT_BYTES = 2 * 1024 * 1024
"""The WAL is cut back to this size after a checkpoint: a burst of writes (a run printing fast
keeps rewriting its output tail) would otherwise leave the WAL file at its high-water mark."""


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
"""A frozen (SIGSTOPped) or cut-off process cannot hold locks for long; the daemon shortens the
idle limit to a fraction of its lease TTL (:meth:`Database.limit_idle_transactions`)."""

PG_POOL_MAX = 12
"""Server connections one process may hold; run threads beyond it wait for a free one."""
PG_POOL_WAIT_SECONDS = 10.0
"""How long a statement waits for a pooled connection before failing with a StoreError."""


class UniqueViolation(Exception):
    """A write hit a unique constraint; callers turn it into a domain error."""


class Database:
    """Connections to one store, one per thread, opened lazily.

    :raises StoreError: when the store cannot be opened, read or written.
    """

    def __init__(self, url: StoreUrl, *, sqlite_writer: threading.RLock | None = None, single: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.backend == SQLITE
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        self._pool: Any = None
        self._single = single
        self._session: dict[str, str] = dict(PG_SESSION_SETTINGS)
        self._sqlite_writer = sqlite_writer or threading.RLock()

    def dedicated(self, **session: str) -> Database:
        """Another handle on this store whose statements never wait for this one's connections.

        Postgres: one server connection of its own (opened on first use, reopened after an
        error), with ``session`` settings on top of the usual ones. SQLite: the calling thread's
        own connection, which still queues on this process's writer lock, since SQLite takes one
        writer at a time anyway (docs/lease-connection.md).
        """
        handle = Database(self.url, sqlite_writer=self._sqlite_writer, single=True)
        handle._session.update(session)
        return handle

    def limit_idle_transactions(self, seconds: float) -> None:
        """Have Postgres end any session of this handle left idle inside a transaction for ``seconds``
        (a frozen or cut-off process then holds its row locks no longer than that).

        Applies to connections opened from now on; pooled ones are replaced.
        """
        self._session["idle_in_transaction_session_timeout"] = f"{max(1, round(seconds * 1000))}ms"
        with self._lock:
            pool = self._pool
        if pool is not None:
            pool.drain()

    # -- connections ----------------------------------------------------------------------

    def connection(self) -> sqlite3.Connection:
        """This thread's SQLite connection, opened on first use."""
        assert self.is_sqlite, "Postgres connections come from the pool"
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect_sqlite()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection this object opened (from any thread)."""
        with self._lock:
            conns, self._all = self._all, []
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close(timeout=2)
        for conn in conns:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        self._local = threading.local()

    def _connect_sqlite(self) -> sqlite3.Connection:
        """Open the existing file, never creating one (see :mod:`jobctl.store.sqlite_file`)."""
        path = self.url.sqlite_path
        assert path is not None
        try:
            conn = sqlite3.connect(
                f"file:{quote(str(path))}?mode=rw",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
                timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA journal_mode").fetchone()
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"PRAGMA journal_size_limit = {SQLITE_WAL_LIMIT_BYTES}")
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

    def _postgres_pool(self) -> Any:
        """The pool, created on first use after one direct connection proves the store reachable.

        The probe gives a clear error at once; a pool alone would only time out.
        """
        with self._lock:
            if self._pool is not None:
                return self._pool
            try:
                import psycopg
                from psycopg.rows import dict_row
            except ImportError as exc:  # pragma: no cover - a dependency
                raise StoreUnusable(f"the Postgres driver is not installed: {exc}") from exc
            info: dict[str, Any] = {**PG_CONNECTION_DEFAULTS, **(self.url.pg_conninfo or {})}
            kwargs = {**info, "autocommit": True, "row_factory": dict_row}
            if self._single:  # a CLI command: one connection, and not the pool's import (5 ms)
                self._pool = _OwnConnection(kwargs, self._configure_session)
                return self._pool
            from psycopg_pool import ConnectionPool

            try:
                psycopg.connect(**info).close()
            except psycopg.Error as exc:
                _refuse_a_malformed_url(exc, self.url)
                raise StoreError(f"cannot open store {self.url.redacted()}: {_first_line(exc)}") from exc
            self._pool = ConnectionPool(
                "",
                kwargs=kwargs,
                min_size=1,
                max_size=PG_POOL_MAX,
                timeout=PG_POOL_WAIT_SECONDS,
                configure=self._configure_session,
                name="jobctl",
                open=True,
            )
            return self._pool

    def _configure_session(self, conn: Any) -> None:
        for setting, value in self._session.items():
            conn.execute(f"SET {setting} = '{value}'")

    @contextmanager
    def _pooled(self) -> Iterator[Any]:
        """A connection borrowed from the pool for one statement or transaction.

        A pooled connection that the server or the network closed meanwhile is closed and given
        back at once (the pool replaces it), and the next one is tried without delay: after a
        reset every pooled connection is dead, and the pool's own ``check`` would both hand a
        dead one out again (it discards only connections whose state is bad) and back off 1, 2,
        4 s between them, longer than a statement may wait.
        """
        pool = self._postgres_pool()
        deadline = time.monotonic() + PG_POOL_WAIT_SECONDS
        try:
            while True:
                conn = pool.getconn(timeout=max(0.001, deadline - time.monotonic()))
                if not _pg_closed(conn):
                    break
                conn.close()
                pool.putconn(conn)
        except Exception as exc:
            if type(exc).__name__ in ("PoolTimeout", "TimeoutError"):
                raise StoreUnavailable(
                    f"store {self.url.redacted()}: no connection within {PG_POOL_WAIT_SECONDS:g}s "
                    "(server unreachable or all pooled connections busy)"
                ) from exc
            if _is_driver_error(exc):  # the dedicated connection's own connect
                _refuse_a_malformed_url(exc, self.url)
                raise StoreUnavailable(f"cannot open store {self.url.redacted()}: {_first_line(exc)}") from exc
            raise
        try:
            if self._single:
                yield conn  # a connection outside a pool would be closed by its own ``with``
            else:
                with conn:
                    yield conn
        finally:
            pool.putconn(conn)

    # -- statements -----------------------------------------------------------------------

    def fetch_all(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run a query and return its rows as dicts."""
        rows, _ = self._run(sql, params)
        return rows

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
        if self.is_sqlite:
            with self._sqlite_writer:
                _, count = self._run(sql, params)
            return count
        _, count = self._run(sql, params)
        return count

    def execute_many(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """Run one statement for each parameter set; the rows each changed, in order.

        On Postgres the statements go out in one pipeline (a single round trip, not one per row),
        which is what makes batched claims and outcomes cheap there.
        """
        values = [{key: self._adapt(value) for key, value in row.items()} for row in rows]
        if not values:
            return []
        if self.is_sqlite:
            with self._sqlite_writer:
                try:
                    sqlite_conn = self.connection()
                    return [sqlite_conn.execute(sql, one).rowcount for one in values]
                except Exception as exc:
                    raise self._translate(exc) from exc
        return self._on_postgres(lambda conn: self._run_postgres_many(conn, sql, values))

    def run_sqlite_script(self, script: str) -> None:
        """Run SQLite statements to completion under this process's writer lock.

        For pragmas that work step by step (``incremental_vacuum``): ``execute`` steps them once.
        """
        assert self.is_sqlite, "a script is SQLite's"
        with self._sqlite_writer:
            try:
                self.connection().executescript(script)
            except sqlite3.Error as exc:
                raise self._translate(exc) from exc

    def run_postgres_until_stopped(self, sql: str, should_stop: Callable[[], bool]) -> bool:
        """Run one Postgres statement of its own (no parameters, outside any transaction: a
        ``VACUUM``), cancelled on the server as soon as ``should_stop()`` says so; whether it
        ran to its end.

        The calling thread waits inside the driver while the statement runs, so a thread of its
        own asks ``should_stop()`` every :data:`STOP_POLL_SECONDS` and then sends the server a
        cancel request (psycopg's connection cancel): the statement ends with ``QueryCanceled``.
        A signal handler that only notes the request (Ctrl-C, SIGTERM) runs meanwhile, as the
        driver's wait lets it. Without this a SIGTERM ended the client and left the server's
        statement running to its end.

        :raises StoreError: when it fails for any other reason.
        """
        assert not self.is_sqlite, "a Postgres statement"
        with self._pooled() as conn:
            cancelled = _cancel_when(conn, should_stop)
            try:
                conn.execute(sql)
            except Exception as exc:
                if cancelled.is_set() and getattr(exc, "sqlstate", None) == _PG_QUERY_CANCELED:
                    return False
                raise self._translate(exc) from exc
            finally:
                cancelled.stop_watching()
        return True

    def _run_postgres_many(self, conn: Any, sql: str, values: list[dict[str, Any]]) -> list[int]:
        try:
            cursor = conn.cursor()
            cursor.executemany(_to_pyformat(sql), values, returning=True)
            counts = []
            while True:
                counts.append(int(cursor.rowcount))
                if not cursor.nextset():
                    return counts
        except Exception as exc:
            raise self._translate(exc) from exc

    def _run(self, sql: str, params: Mapping[str, Any] | None) -> tuple[list[Row], int]:
        values = {key: self._adapt(value) for key, value in (params or {}).items()}
        if self.is_sqlite:
            try:
                cursor = self.connection().execute(sql, values)
                return _sqlite_rows(cursor), cursor.rowcount
            except Exception as exc:
                raise self._translate(exc) from exc
        return self._on_postgres(lambda conn: self._run_postgres(conn, sql, values))

    def _on_postgres(self, work: Callable[[Any], _T]) -> _T:
        """Run ``work`` on this thread's transaction connection, or on one borrowed for it."""
        conn = getattr(self._local, "pg_conn", None)
        if conn is not None:
            return work(conn)
        with self._pooled() as borrowed:
            return work(borrowed)

    def _run_postgres(self, conn: Any, sql: str, values: dict[str, Any]) -> tuple[list[Row], int]:
        try:
            return _prepared_statement(conn, sql, values)
        except Exception as exc:
            if not _is_stale_plan(exc):
                raise self._translate(exc) from exc
            stale = exc
        # A newer jobctl added a column to a table this connection's prepared ``SELECT *`` or
        # ``RETURNING *`` reads: Postgres refuses to run such a statement again, every time.
        # psycopg forgets its prepared statements on a rollback, so a transaction's failure is
        # passed on as an outage (its caller runs it again, on statements prepared afresh);
        # a statement of its own is run again at once, after ``DEALLOCATE ALL`` (psycopg reads
        # that command too). Without this, a daemon went on failing every tick after a rolling
        # upgrade, holding the lease all the while (docs/upgrading.md).
        if conn.info.transaction_status != _PG_IDLE:
            raise StoreUnavailable(f"store {self.url.redacted()}: {_first_line(stale)}") from stale
        try:
            conn.execute("DEALLOCATE ALL")
            return _prepared_statement(conn, sql, values)
        except Exception as exc:
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
        self._local.depth = 1
        try:
            if self.is_sqlite:
                yield from self._sqlite_transaction(self.connection())
            else:
                yield from self._postgres_transaction()
        finally:
            self._local.depth = 0

    def _sqlite_transaction(self, conn: sqlite3.Connection) -> Iterator[None]:
        """Writers of this process queue on a lock instead of in SQLite's busy handler, whose
        growing sleeps (up to 100 ms) made the tail of a burst of run outcomes slow."""
        with self._sqlite_writer:
            yield from self._sqlite_locked_transaction(conn)

    def _sqlite_locked_transaction(self, conn: sqlite3.Connection) -> Iterator[None]:
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

    def _postgres_transaction(self) -> Iterator[None]:
        try:
            with self._pooled() as conn, conn.transaction():
                self._local.pg_conn = conn
                try:
                    yield
                finally:
                    self._local.pg_conn = None
        except Exception as exc:
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
            kind = StoreUnavailable if _is_outage(exc) else StoreError
            return kind(f"store {self.url.redacted()}: {_first_line(exc)}")
        return exc


def _prepared_statement(conn: Any, sql: str, values: dict[str, Any]) -> tuple[list[Row], int]:
    """Run ``sql`` as a prepared statement on a psycopg connection: its rows and row count."""
    cursor = conn.execute(_to_pyformat(sql), values, prepare=True)
    # The result's status says whether it has rows: ``cursor.description`` would build a column
    # object for each of the columns (some 50 of a job) on every statement.
    result = cursor.pgresult
    rows = list(cursor.fetchall()) if result is not None and result.status == _TUPLES_OK else []
    return rows, int(cursor.rowcount)


_PG_IDLE = 0
"""``psycopg.pq.TransactionStatus.IDLE``: no transaction open on the connection."""


def _is_stale_plan(exc: BaseException) -> bool:
    """Postgres' refusal to run a prepared statement whose result's columns changed since it was
    prepared (SQLSTATE 0A000, "cached plan must not change result type")."""
    return getattr(exc, "sqlstate", None) == "0A000" and "cached plan must not change result type" in str(exc)


def _sqlite_rows(cursor: sqlite3.Cursor) -> list[Row]:
    """The cursor's rows as dicts. Zipping the column names with plain tuples costs a third of
    ``dict(sqlite3.Row)``, which looks each name up again; a result with a column name twice (a
    join's ``*``) keeps the first, as ``sqlite3.Row`` does."""
    if cursor.description is None:
        return []
    names = [column[0] for column in cursor.description]
    if len(set(names)) != len(names):
        return [dict(row) for row in cursor.fetchall()]
    cursor.row_factory = None  # type: ignore[assignment]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def to_utc(value: Any) -> datetime | None:
    """A stored timestamp (text on SQLite, timestamptz on Postgres) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def utc_text(value: Any) -> str | None:
    """A stored timestamp as ISO 8601 UTC text ending in ``Z``: exactly
    ``to_utc(value).isoformat()`` with ``+00:00`` spelt ``Z`` (the API's timestamps).

    The fixed-width text :func:`format_sqlite_time` writes is re-spelt by slicing, without a
    datetime in between: a listing of 100,000 jobs reads half a million timestamps. Anything
    else (a Postgres datetime, text in another form) goes the long way.
    """
    if value is None:
        return None
    if type(value) is str and len(value) == _SQLITE_TIME_CHARS and value.endswith("+00:00") and value[10] == " ":
        fraction = value[19:26]
        return value[:10] + "T" + value[11:19] + ("" if fraction == ".000000" else fraction) + "Z"
    if isinstance(value, datetime) and (value.tzinfo is UTC or getattr(value.tzinfo, "key", None) in _UTC_KEYS):
        return value.isoformat()[:-6] + "Z"  # its "+00:00"; psycopg gives the session's zone, here Etc/UTC
    utc = to_utc(value)
    assert utc is not None
    return utc.isoformat().replace("+00:00", "Z")


_SQLITE_TIME_CHARS = len("2026-01-01 00:00:00.000000+00:00")
_UTC_KEYS = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"})
"""Names of zones that are UTC at every instant (a ``ZoneInfo``'s ``key``): a time in them is
spelt in UTC without a conversion."""


def format_sqlite_time(value: datetime) -> str:
    """Fixed-width UTC text, so that SQLite compares timestamps correctly as strings."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(UTC).isoformat(sep=" ", timespec="microseconds")


_TUPLES_OK = 2
"""``psycopg.pq.ExecStatus.TUPLES_OK``: a result that holds rows (libpq's ``PGRES_TUPLES_OK``)."""


@lru_cache(maxsize=512)
def _to_pyformat(sql: str) -> str:
    escaped = sql.replace("%", "%%")
    return re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", r"%(\1)s", escaped)


class _OwnConnection:
    """One Postgres connection lent to one user at a time, with the pool's ``getconn``/``putconn``
    surface: what :meth:`Database.dedicated` uses instead of a pool.

    Opened on first use and again after it broke; a statement that failed inside a transaction
    leaves it rolled back for the next user.
    """

    def __init__(self, kwargs: dict[str, Any], configure: Callable[[Any], None]) -> None:
        self._kwargs = kwargs
        self._configure = configure
        self._conn: Any = None
        self._lock = threading.Lock()

    def getconn(self, timeout: float) -> Any:
        import psycopg

        if not self._lock.acquire(timeout=timeout):
            raise TimeoutError("the dedicated connection is busy")
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(**self._kwargs)
                self._configure(self._conn)
        except BaseException:
            self._lock.release()
            raise
        return self._conn

    def putconn(self, conn: Any) -> None:
        try:
            if conn.broken:
                conn.close()
            elif not conn.closed and conn.info.transaction_status != 0:  # not idle: roll back
                conn.rollback()
        except Exception:  # noqa: BLE001 - a connection that cannot roll back is useless
            conn.close()
        finally:
            if conn.closed:
                self._conn = None
            self._lock.release()

    def close(self, timeout: float = 0) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


STOP_POLL_SECONDS = 0.05
"""How often a statement run by :meth:`Database.run_postgres_until_stopped` asks whether to stop."""
_PG_QUERY_CANCELED = "57014"
"""SQLSTATE of a statement a cancel request ended."""


class _StatementCanceller(threading.Thread):
    """Sends one cancel request for the statement running on ``conn`` once ``should_stop()``
    says so, asking every :data:`STOP_POLL_SECONDS` until :meth:`stop_watching`."""

    def __init__(self, conn: Any, should_stop: Callable[[], bool]) -> None:
        super().__init__(name="statement-cancel", daemon=True)
        self._conn = conn
        self._should_stop = should_stop
        self._done = threading.Event()
        self._sent = threading.Event()

    def is_set(self) -> bool:
        """Whether the cancel request was sent."""
        return self._sent.is_set()

    def run(self) -> None:
        while not self._done.wait(STOP_POLL_SECONDS):
            if self._should_stop():
                cancel = getattr(self._conn, "cancel_safe", None) or self._conn.cancel  # cancel_safe: psycopg 3.2
                self._sent.set()
                try:
                    cancel()
                except Exception:  # noqa: BLE001 - the statement then ends on its own; nothing else to do
                    pass
                return

    def stop_watching(self) -> None:
        self._done.set()
        self.join()


def _cancel_when(conn: Any, should_stop: Callable[[], bool]) -> _StatementCanceller:
    canceller = _StatementCanceller(conn, should_stop)
    canceller.start()
    return canceller


def _pg_closed(conn: Any) -> bool:
    """Whether an idle Postgres connection was closed by the other end, without reading from it.

    Idle, a connection receives nothing but the odd notice; readable with nothing (FIN), a
    reset, or an ErrorResponse (the server's FATAL before it hangs up) means it is gone. Costs
    one poll() when nothing is pending.
    """
    if conn.closed or conn.broken:
        return True
    try:
        fd = conn.pgconn.socket
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        if not poller.poll(0):
            return False
        peek = socket.socket(fileno=fd)
        try:
            head = peek.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        finally:
            peek.detach()
    except BlockingIOError:
        return False
    except Exception:  # noqa: BLE001 - reset, bad descriptor: unusable either way
        return True
    return head in (b"", b"E")


def _is_driver_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("psycopg")


def _is_outage(exc: BaseException) -> bool:
    """A Postgres error that says nothing about the statement: the connection or the server
    failed (``OperationalError``: lost connection, shutdown, cancelled, serialisation; or the
    client's ``InterfaceError``). Data, integrity and programming errors fail every time."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"OperationalError", "InterfaceError", "PoolTimeout"})


_MALFORMED_CONNINFO = re.compile(r'invalid connection option|invalid \S+ value|bad value for|missing "=" after')
"""libpq's words for a connection parameter it does not know or a value it cannot take
(``?foo=bar``, ``?sslmode=bogus``, ``?connect_timeout=x``): a mistake in the URL, which no retry
mends, not an outage."""


def _refuse_a_malformed_url(exc: BaseException, url: StoreUrl) -> None:
    """:raises UsageError: (exit 2, as for any malformed store URL, and a daemon that systemd
    does not restart for it) when the driver refused the URL's own parameters."""
    line = _first_line(exc)
    if _MALFORMED_CONNINFO.search(line):
        from jobctl.errors import UsageError

        raise UsageError(f"store URL {url.redacted()}: {line.removeprefix('connection is bad: ')}") from exc


def _first_line(exc: BaseException) -> str:
    """The first line of a driver's message, passwords masked (libpq may quote connection parameters)."""
    text = str(exc).strip()
    return redact(text.splitlines()[0]) if text else type(exc).__name__


SQLITE_DAMAGE_CODES = (11, 26)
"""``SQLITE_CORRUPT`` and ``SQLITE_NOTADB``: the primary result codes of a file with damaged pages."""


def why_unopenable(path: Path | None) -> str | None:
    """Why SQLite's "unable to open database file" happened, when the file system can tell: it
    gives that one sentence for a file this user may not read, a directory on the way it may not
    enter and a directory that is not there, and the fix differs for each. None when it
    cannot tell (root may do all of these)."""
    if path is None:
        return None
    for folder in reversed(path.parents):  # from / down: the first one this user may not enter
        if not folder.is_dir():
            return f"directory {folder} does not exist"
        if not os.access(folder, os.X_OK):
            return f"permission denied: this user may not enter {folder}"
    if os.path.lexists(path):
        return None if os.access(path, os.R_OK | os.W_OK) else "permission denied: this user may not read and write it"
    if not os.access(path.parent, os.W_OK):
        return f"permission denied: this user may not create files in {path.parent}"
    return None


def _sqlite_error(exc: sqlite3.Error, path: Path | None) -> StoreError:
    text = str(exc)
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code in SQLITE_DAMAGE_CODES or "not a database" in text or "malformed" in text:
        return StoreDamaged(f"store {path} is not a usable SQLite database ({text})")
    if "readonly" in text or "read-only" in text:
        return StoreError(f"store {path} is read-only; nothing was written")
    if "unable to open" in text:
        return StoreUnavailable(f"cannot open store {path}: {why_unopenable(path) or text}")
    if "locked" in text or "busy" in text:
        return StoreBusy(f"store {path} is busy (another process holds a long write); try again")
    if "disk I/O" in text or "full" in text:
        return StoreUnavailable(f"store {path}: {text}")
    return StoreError(f"store {path}: {text}")
