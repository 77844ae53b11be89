"""Store URLs: which one applies, and what it points at.

Users give SQLAlchemy-style URLs (``sqlite:////var/lib/jobctl/jobctl.db``,
``postgresql+psycopg://user@host/dbname``). Queries run through the DB-API drivers directly
(see docs/store-queries.md), so the URL is parsed here without importing SQLAlchemy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from jobctl.errors import UsageError
from jobctl.redaction import redact

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


@dataclass(frozen=True, kw_only=True)
class StoreUrl:
    """A parsed store URL."""

    url: str
    backend: str
    sqlite_path: Path | None = None
    pg_conninfo: dict[str, str] | None = None

    def redacted(self) -> str:
        """The URL with any password replaced, safe for messages and logs."""
        return redact(self.url)

    def sqlalchemy_url(self) -> str:
        """The URL in the form SQLAlchemy and Alembic expect."""
        if self.backend == SQLITE:
            return f"sqlite:///{self.sqlite_path}"
        _scheme, _, rest = self.url.partition("://")
        return f"postgresql+psycopg://{rest}"


def default_sqlite_path() -> Path:
    """``jobctl.db`` in the user's data directory."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("jobctl")) / "jobctl.db"


def parse_store_url(url: str) -> StoreUrl:
    """Parse ``url``.

    :raises UsageError: for a malformed URL (no or unknown scheme, bad port, no database, an
        in-memory SQLite store), with the URL's password masked.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise UsageError(
            f"store URL {redact(url)!r} has no scheme (use sqlite:///PATH or postgresql+psycopg://user@host/dbname)"
        )
    dialect = scheme.split("+", 1)[0].lower()
    if dialect == SQLITE:
        return _parse_sqlite(url, rest)
    if dialect in ("postgresql", "postgres"):
        return _parse_postgres(url)
    raise UsageError(f"unsupported store URL scheme {redact(scheme)!r} (use sqlite or postgresql+psycopg)")


def _parse_sqlite(url: str, rest: str) -> StoreUrl:
    if not rest.startswith("/"):
        raise UsageError(f"store URL {redact(url)!r}: expected sqlite:///relative/path or sqlite:////absolute/path")
    raw = rest[1:].split("?", 1)[0]
    if raw in ("", ":memory:"):
        raise UsageError("an in-memory SQLite store cannot be shared between processes; give a file path")
    return StoreUrl(url=url, backend=SQLITE, sqlite_path=Path(os.path.abspath(unquote(raw))))


def _parse_postgres(url: str) -> StoreUrl:
    where = f"store URL {redact(url)!r}"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        reason = "port must be a number from 1 to 65535" if "port" in str(exc).lower() else "malformed host"
        raise UsageError(f"{where}: {reason}") from None
    info: dict[str, str] = {}
    if parts.hostname:
        info["host"] = unquote(parts.hostname)
    if port is not None:
        if port == 0:
            raise UsageError(f"{where}: port must be a number from 1 to 65535")
        info["port"] = str(port)
    if parts.username:
        info["user"] = unquote(parts.username)
    if parts.password:
        info["password"] = unquote(parts.password)
    dbname = parts.path.lstrip("/")
    if dbname:
        info["dbname"] = unquote(dbname)
    info.update(dict(parse_qsl(parts.query)))
    if not info.get("dbname"):
        raise UsageError(f"{where} names no database (postgresql+psycopg://user@host/DBNAME)")
    return StoreUrl(url=url, backend=POSTGRESQL, pg_conninfo=info)
