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

from jobctl.errors import StoreError

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
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()

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
    """Parse ``url``; :raises StoreError: for a scheme jobctl cannot use."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise StoreError(f"store URL {url!r} has no scheme (use sqlite:///PATH or postgresql+psycopg://...)")
    dialect = scheme.split("+", 1)[0].lower()
    if dialect == SQLITE:
        return _parse_sqlite(url, rest)
    if dialect in ("postgresql", "postgres"):
        return _parse_postgres(url)
    raise StoreError(f"unsupported store URL scheme {scheme!r} (use sqlite or postgresql+psycopg)")


def _parse_sqlite(url: str, rest: str) -> StoreUrl:
    if not rest.startswith("/"):
        raise StoreError(f"store URL {url!r}: expected sqlite:///relative/path or sqlite:////absolute/path")
    raw = rest[1:].split("?", 1)[0]
    if raw in ("", ":memory:"):
        raise StoreError("an in-memory SQLite store cannot be shared between processes; give a file path")
    return StoreUrl(url=url, backend=SQLITE, sqlite_path=Path(os.path.abspath(unquote(raw))))


def _parse_postgres(url: str) -> StoreUrl:
    parts = urlsplit(url)
    info: dict[str, str] = {}
    if parts.hostname:
        info["host"] = unquote(parts.hostname)
    if parts.port:
        info["port"] = str(parts.port)
    if parts.username:
        info["user"] = unquote(parts.username)
    if parts.password:
        info["password"] = unquote(parts.password)
    dbname = parts.path.lstrip("/")
    if dbname:
        info["dbname"] = unquote(dbname)
    info.update(dict(parse_qsl(parts.query)))
    return StoreUrl(url=url, backend=POSTGRESQL, pg_conninfo=info)
