"""Persistence: one store over SQLite or Postgres, opened with :func:`open_store`.

The store groups its tables into small record classes (``store.jobs``, ``store.executions``,
...). Every method states what it raises; driver errors surface as :class:`jobctl.errors.StoreError`.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from functools import cached_property
from typing import TYPE_CHECKING

from jobctl.errors import StoreError
from jobctl.models import TaskFunctionSpec
from jobctl.store.catalog import Catalog
from jobctl.store.cluster import ClusterRecords
from jobctl.store.database import Database
from jobctl.store.jobs import JobCounts, JobFilter, JobRecords
from jobctl.store.schema_version import HEAD, ensure_current
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
    """A jobctl store, current schema guaranteed (unless opened with ``migrate=False``:
    ``revision`` is then the schema it has).

    The record classes a short command may not touch are made (and their modules imported) on
    first use: every CLI command opens the store, and ``jobs list`` needs only the jobs.
    """

    def __init__(self, db: Database, *, revision: str = HEAD, upgraded_from: str | None = None) -> None:
        self.db = db
        self.revision = revision
        """The store's schema version: :data:`~jobctl.store.schema_version.HEAD` unless opened without upgrading."""
        self.upgraded_from = upgraded_from
        """The schema version this open upgraded the store from, or None: the caller says so to the
        user (:func:`~jobctl.store.schema_version.upgrade_notice`), since earlier releases can no
        longer open it."""
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


def open_store(url: str, *, one_connection: bool = False, create: bool = True, migrate: bool = True) -> Store:
    """Open (creating or upgrading as needed) the store at ``url``.

    A SQLite path that does not exist becomes a new store; an existing file must be one.
    ``one_connection``: on Postgres, one connection used by one thread at a time instead of a
    pool (a command line call, which makes its statements one after the other).
    ``create=False``: the store must already exist (a SQLite file, a Postgres schema holding
    jobctl's tables); nothing is created. ``migrate=False``: an older store is opened as it is,
    not upgraded (``store.revision`` says which it is); only code that reads what every schema
    version has may use it (``jobctl store info``, ``check``, ``backup``: docs/store-maintenance.md).
    An upgrade is not reported here: ``store.upgraded_from`` says it happened, for the caller to tell.

    :raises UsageError: for a malformed URL.
    :raises StoreError: when it cannot be opened, does not exist and ``create`` is false, or is
        read-only and needs changes.
    :raises StoreUnusable: when it can never be used as it is: not a jobctl store (an empty file
        included), not a regular file, not SQLite, or (:class:`StoreVersionError`) written by a
        newer jobctl.
    """
    parsed = parse_store_url(url)
    if parsed.sqlite_path is not None:
        from jobctl.store.sqlite_file import create_if_missing, refuse_other_than_a_file

        if create:
            create_if_missing(parsed.sqlite_path)
        elif not os.path.lexists(parsed.sqlite_path):
            raise StoreError(f"no store at {parsed.sqlite_path}: the file does not exist (check --db)")
        refuse_other_than_a_file(parsed.sqlite_path)
    db = Database(parsed, single=one_connection)
    try:
        schema = ensure_current(db, create=create, migrate=migrate)
    except BaseException:
        db.close()
        raise
    return Store(db, revision=schema.revision, upgraded_from=schema.upgraded_from)
