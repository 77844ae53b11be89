"""Persistence: one store over SQLite or Postgres, opened with :func:`open_store`.

The store groups its tables into small record classes (``store.jobs``, ``store.executions``,
...). Every method states what it raises; driver errors surface as :class:`jobctl.errors.StoreError`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import cached_property
from typing import TYPE_CHECKING

from jobctl.models import TaskFunctionSpec
from jobctl.store.catalog import Catalog
from jobctl.store.cluster import ClusterRecords
from jobctl.store.database import Database
from jobctl.store.jobs import JobCounts, JobFilter, JobRecords
from jobctl.store.schema_version import ensure_current
from jobctl.store.url import StoreUrl, parse_store_url

if TYPE_CHECKING:
    from jobctl.store.audit import AuditRecords
    from jobctl.store.deliveries import DeliveryRecords
    from jobctl.store.executions import ExecutionRecords
    from jobctl.store.figures import FigureRecords
    from jobctl.store.groups import GroupRecords
    from jobctl.store.history import HistoryRecords
    from jobctl.store.job_health import JobHealthRecords
    from jobctl.store.tokens import TokenRecords

__all__ = ["JobCounts", "JobFilter", "Store", "TaskFunctionSpec", "open_store"]


class Store:
    """A jobctl store, current schema guaranteed.

    The record classes a short command may not touch are made (and their modules imported) on
    first use: every CLI command opens the store, and ``jobs list`` needs only the jobs.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.url: StoreUrl = db.url
        self.catalog = Catalog(db)
        self.jobs = JobRecords(db)
        self.cluster = ClusterRecords(db)

    @cached_property
    def executions(self) -> ExecutionRecords:
        from jobctl.store.executions import ExecutionRecords

        return ExecutionRecords(self.db)

    @cached_property
    def tokens(self) -> TokenRecords:
        from jobctl.store.tokens import TokenRecords

        return TokenRecords(self.db)

    @cached_property
    def audit(self) -> AuditRecords:
        from jobctl.store.audit import AuditRecords

        return AuditRecords(self.db)

    @cached_property
    def deliveries(self) -> DeliveryRecords:
        from jobctl.store.deliveries import DeliveryRecords

        return DeliveryRecords(self.db)

    @cached_property
    def job_health(self) -> JobHealthRecords:
        from jobctl.store.job_health import JobHealthRecords

        return JobHealthRecords(self.db)

    @cached_property
    def figures(self) -> FigureRecords:
        from jobctl.store.figures import FigureRecords

        return FigureRecords(self.db)

    @cached_property
    def history(self) -> HistoryRecords:
        from jobctl.store.history import HistoryRecords

        return HistoryRecords(self.db)

    @cached_property
    def groups(self) -> GroupRecords:
        from jobctl.store.groups import GroupRecords

        return GroupRecords(self.db)

    def transaction(self) -> AbstractContextManager[None]:
        """A write transaction spanning several record classes."""
        return self.db.transaction()

    def close(self) -> None:
        self.db.close()


def open_store(url: str, *, one_connection: bool = False) -> Store:
    """Open (creating or upgrading as needed) the store at ``url``.

    A SQLite path that does not exist becomes a new store; an existing file must be one.
    ``one_connection``: on Postgres, one connection used by one thread at a time instead of a
    pool (a command line call, which makes its statements one after the other).

    :raises UsageError: for a malformed URL.
    :raises StoreError: when it cannot be opened, is not a jobctl store (an empty file included),
        or is read-only and needs changes.
    :raises StoreVersionError: when it was written by a newer jobctl.
    """
    parsed = parse_store_url(url)
    if parsed.sqlite_path is not None:
        from jobctl.store.sqlite_file import create_if_missing

        create_if_missing(parsed.sqlite_path)
    db = Database(parsed, single=one_connection)
    try:
        ensure_current(db)
    except BaseException:
        db.close()
        raise
    return Store(db)
