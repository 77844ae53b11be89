"""Jobs: the schedule and settings of each thing jobctl runs."""

from __future__ import annotations

import builtins
import enum
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jobctl.errors import Conflict
from jobctl.models import ExecutionStatus, Job, JobSettings
from jobctl.store.cluster import BUMP_GENERATION_SQL, CHANGES_CHANNEL
from jobctl.store.database import Database, Row, UniqueViolation, to_utc
from jobctl.store.records import dump_json, job_from_row, json_fields
from jobctl.store.writes import SETTINGS, JobChanges, NewJob

DUE_SQL = """
SELECT * FROM jobs WHERE is_enabled = :yes AND is_paused = :no AND next_run_time <= :now
ORDER BY next_run_time LIMIT :limit
"""
"""The jobs whose next run has come, earliest first: a range of ``ix_jobs_due``, in its order
(migration 0025; a test holds the plan on SQLite)."""

EARLIEST_NEXT_RUN_SQL = "SELECT MIN(next_run_time) FROM jobs WHERE is_enabled = :yes AND is_paused = :no"
"""When the scheduler must look again: the first entry of a range of ``ix_jobs_due``."""


@dataclass(frozen=True, kw_only=True)
class JobFilter:
    """The filters of ``GET /jobs``."""

    name: str | None = None
    is_enabled: bool | None = None
    task_function_id: int | None = None
    id_prefix: str | None = None
    """The start of the id, in lower case (hex digits and dashes only, so no LIKE escaping)."""
    labels: tuple[tuple[str, str], ...] = ()
    """(key, value) pairs the job must all carry; keys are checked label keys (no quotes)."""

    def where(self, *, sqlite: bool, with_enabled: bool = True) -> tuple[str, dict[str, Any]]:
        clauses: builtins.list[str] = []
        params: dict[str, Any] = {}
        if self.name:
            clauses.append("LOWER(j.name) LIKE :name ESCAPE '\\'")
            params["name"] = "%" + _escape_like(self.name.lower()) + "%"
        if with_enabled and self.is_enabled is not None:
            clauses.append("j.is_enabled = :is_enabled")
            params["is_enabled"] = self.is_enabled
        if self.task_function_id is not None:
            clauses.append("j.task_function_id = :task_function_id")
            params["task_function_id"] = self.task_function_id
        if self.id_prefix:
            clauses.append("j.id LIKE :id_prefix")
            params["id_prefix"] = self.id_prefix + "%"
        for index, (key, value) in enumerate(self.labels):
            clauses.append(_label_clause(index, sqlite=sqlite))
            params[f"label_key_{index}"] = f'$."{key}"' if sqlite else key
            params[f"label_value_{index}"] = value
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


@dataclass(frozen=True, kw_only=True)
class JobKey:
    """A job's place in the listing's order: ``(created_at, id)``, unique and never changed."""

    created_at: datetime
    id: str


@dataclass(frozen=True, kw_only=True)
class JobCounts:
    total: int
    enabled: int
    disabled: int
    running: int


class JobRecords:
    """Reads and writes the ``jobs`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, new: NewJob) -> Job:
        """Store a new job. :raises Conflict: when the name is taken."""
        row = _new_job_row(new)
        names = ", ".join(row)
        placeholders = ", ".join(f":{key}" for key in row)
        try:
            stored = self.db.fetch_one(f"INSERT INTO jobs ({names}) VALUES ({placeholders}) RETURNING *", row)
        except UniqueViolation as exc:
            raise Conflict(f"a job named {new.settings.name!r} already exists") from exc
        assert stored is not None
        return job_from_row(stored)

    def insert_and_announce(self, new: NewJob) -> Job:
        """:meth:`insert`, bump the change counter and notify schedulers, atomically.

        On Postgres one statement (a data-modifying CTE), so a create costs one round trip.
        :raises Conflict: when the name is taken.
        """
        if self.db.is_sqlite:
            with self.db.transaction():
                job = self.insert(new)
                self.db.execute(BUMP_GENERATION_SQL)
            return job
        row = _new_job_row(new)
        names = ", ".join(row)
        placeholders = ", ".join(f":{key}" for key in row)
        try:
            stored = self.db.fetch_one(
                f"""
                WITH bump AS ({BUMP_GENERATION_SQL} RETURNING pg_notify('{CHANGES_CHANNEL}', ''))
                INSERT INTO jobs ({names}) VALUES ({placeholders}) RETURNING *
                """,
                row,
            )
        except UniqueViolation as exc:
            raise Conflict(f"a job named {new.settings.name!r} already exists") from exc
        assert stored is not None
        return job_from_row(stored)

    def update(self, job_id: str, changes: JobChanges) -> bool:
        """Write the changed settings (and the next slot, when given). :raises Conflict: when a new name is taken."""
        row = {name: _column(name, value) for name, value in changes.values().items()}
        if changes.next is not None:
            row.update(next_slot=changes.next.slot, next_run_time=changes.next.run_time)
        row.update(updated_at=changes.updated_at, updated_by=changes.updated_by)
        assignments = ", ".join(f"{key} = :{key}" for key in row)
        try:
            return self.db.execute(f"UPDATE jobs SET {assignments} WHERE id = :job_id", {**row, "job_id": job_id}) > 0
        except UniqueViolation as exc:
            raise Conflict(f"a job named {changes.settings.name!r} already exists") from exc

    def delete(self, job_id: str) -> bool:
        return self.db.execute("DELETE FROM jobs WHERE id = :id", {"id": job_id}) > 0

    def get(self, job_id: str, *, lock: bool = False) -> Job | None:
        """The job, or None; ``lock`` holds its row until the transaction ends (Postgres)."""
        suffix = " FOR UPDATE" if lock and not self.db.is_sqlite else ""
        row = self.db.fetch_one(f"SELECT * FROM jobs WHERE id = :id{suffix}", {"id": job_id})
        return job_from_row(row) if row else None

    def get_by_name(self, name: str) -> Job | None:
        row = self.db.fetch_one("SELECT * FROM jobs WHERE name = :name", {"name": name})
        return job_from_row(row) if row else None

    def list(self, filters: JobFilter, *, limit: int, offset: int) -> builtins.list[Job]:
        where, params = filters.where(sqlite=self.db.is_sqlite)
        rows = self.db.fetch_all(
            f"SELECT j.* FROM jobs j {where} ORDER BY j.created_at, j.id LIMIT :limit OFFSET :offset",
            {**params, "limit": limit, "offset": offset},
        )
        return [job_from_row(row) for row in rows]

    def page(
        self, filters: JobFilter, *, limit: int, offset: int = 0, after: JobKey | None = None
    ) -> tuple[builtins.list[Job], bool]:
        """Up to ``limit`` jobs oldest first, and whether more follow (:meth:`page_rows`)."""
        rows, more = self.page_rows(filters, limit=limit, offset=offset, after=after)
        return [job_from_row(row) for row in rows], more

    def page_rows(
        self, filters: JobFilter, *, limit: int, offset: int = 0, after: JobKey | None = None
    ) -> tuple[builtins.list[Row], bool]:
        """The rows of up to ``limit`` jobs oldest first, as stored, and whether more follow.

        For a listing that shapes each row itself (``GET /jobs``): a :class:`Job` in between
        would cost more than the listing's own work (docs/keyset-paging.md).

        Keyset paging (docs/keyset-paging.md): ``after`` gives the jobs listed after that key,
        by ``(created_at, id)``. The condition is a row value, which both stores read as one
        range of ``ix_jobs_created_id``; the same test spelt with ``OR`` is a filter on
        Postgres, read from the start of the index on every page.
        """
        where, params = filters.where(sqlite=self.db.is_sqlite)
        clauses = [where.removeprefix("WHERE ")] if where else []
        if after is not None:
            clauses.append("(j.created_at, j.id) > (:cursor_at, :cursor_id)")
            params.update(cursor_at=after.created_at, cursor_id=after.id)
        condition = "WHERE " + " AND ".join(clauses) if clauses else ""
        rows = self.db.fetch_all(
            f"SELECT j.* FROM jobs j {condition} ORDER BY j.created_at, j.id LIMIT :limit OFFSET :offset",
            {**params, "limit": limit + 1, "offset": offset},
        )
        return rows[:limit], len(rows) > limit

    def counts(self, filters: JobFilter) -> JobCounts:
        """Totals for the filters; enabled + disabled == total by construction.

        Three counts in one statement, none reading more rows than it must at 100,000 jobs
        (plans in docs/scale-query-plans.md): without filters the total is a count of the
        smallest index; disabled jobs are a range of ``ix_jobs_due`` (usually few; the
        enabled ones are the difference); running jobs start from the (few) running
        executions through the status index and look their job up by key, rather than
        listing every job's id to match them against.
        """
        where, params = filters.where(sqlite=self.db.is_sqlite)
        also = where.replace("WHERE ", "AND ", 1)
        disabled = f"{where} AND j.is_enabled = :count_no" if where else "WHERE j.is_enabled = :count_no"
        row = self.db.fetch_one(
            f"""
            SELECT (SELECT COUNT(*) FROM jobs j {where}) AS total,
                   (SELECT COUNT(*) FROM jobs j {disabled}) AS disabled,
                   (SELECT COUNT(DISTINCT e.job_id) FROM executions e JOIN jobs j ON j.id = e.job_id
                    WHERE e.status = :count_running {also}) AS running
            """,
            {**params, "count_no": False, "count_running": ExecutionStatus.RUNNING.value},
        )
        assert row is not None
        total, disabled_count = int(row["total"]), int(row["disabled"])
        return JobCounts(
            total=total, enabled=total - disabled_count, disabled=disabled_count, running=int(row["running"])
        )

    def paused_count(self) -> int:
        """Enabled jobs that are paused: a range of ``ix_jobs_due`` (is_enabled, is_paused, ...),
        as cheap as the paused jobs are few."""
        value = self.db.scalar("SELECT COUNT(*) FROM jobs WHERE is_enabled = :yes AND is_paused = :yes", {"yes": True})
        return int(value or 0)

    def due(self, now: datetime, *, limit: int) -> builtins.list[Job]:
        """Enabled, unpaused jobs whose next run time has come, earliest first."""
        rows = self.db.fetch_all(DUE_SQL, {"now": now, "yes": True, "no": False, "limit": limit})
        return [job_from_row(row) for row in rows]

    def earliest_next_run_time(self) -> datetime | None:
        value = self.db.scalar(EARLIEST_NEXT_RUN_SQL, {"yes": True, "no": False})
        return to_utc(value)

    def next_scheduled(self) -> Job | None:
        row = self.db.fetch_one(
            """
            SELECT * FROM jobs WHERE next_run_time IS NOT NULL AND is_enabled = :yes AND is_paused = :no
            ORDER BY next_run_time LIMIT 1
            """,
            {"yes": True, "no": False},
        )
        return job_from_row(row) if row else None

    def advance(
        self,
        job_id: str,
        *,
        expected_slot: datetime,
        next_slot: datetime | None,
        next_run_time: datetime | None,
        disable: bool,
        now: datetime,
    ) -> bool:
        """Move a job past ``expected_slot``; False if someone else already moved it.

        The scheduler's bookkeeping only: ``updated_at``/``updated_by`` say when someone last
        changed the job, and running it is no change.
        """
        step = Advance(
            job_id=job_id,
            expected_slot=expected_slot,
            next_slot=next_slot,
            next_run_time=next_run_time,
            disable=disable,
        )
        return self.db.execute(_ADVANCE_SQL, _advance_params(step, now)) > 0

    def advance_many(self, steps: Sequence[Advance], *, now: datetime) -> builtins.list[bool]:
        """:meth:`advance` for many jobs in one go (one round trip on Postgres); which moved."""
        counts = self.db.execute_many(_ADVANCE_SQL, [_advance_params(step, now) for step in steps])
        return [count > 0 for count in counts]

    def record_outcome(self, job_id: str, *, last_run_time: datetime, last_status: str) -> None:
        self.db.execute(
            "UPDATE jobs SET last_run_time = :t, last_status = :s WHERE id = :id",
            {"t": last_run_time, "s": last_status, "id": job_id},
        )


@dataclass(frozen=True, kw_only=True)
class Advance:
    """Move job ``job_id`` from the slot it is expected to hold to its next one."""

    job_id: str
    expected_slot: datetime
    next_slot: datetime | None
    next_run_time: datetime | None
    disable: bool


_ADVANCE_SQL = """
    UPDATE jobs SET next_slot = :next_slot, next_run_time = :next_run_time,
        is_enabled = CASE WHEN :disable THEN :no ELSE is_enabled END
    WHERE id = :id AND next_slot = :expected
"""


def _advance_params(step: Advance, now: datetime) -> dict[str, Any]:
    return {
        "id": step.job_id,
        "expected": step.expected_slot,
        "next_slot": step.next_slot,
        "next_run_time": step.next_run_time,
        "disable": step.disable,
        "no": False,
    }


def _new_job_row(new: NewJob) -> dict[str, Any]:
    """The columns of a new job: one per setting (same name), then the bookkeeping."""
    row = {name: _column(name, getattr(new.settings, name)) for name in sorted(SETTINGS)}
    row.update(
        id=new.id,
        next_slot=new.next.slot,
        next_run_time=new.next.run_time,
        created_at=new.created_at,
        updated_at=new.created_at,
        created_by=new.created_by,
        updated_by=new.created_by,
    )
    return row


def _column(setting: str, value: Any) -> Any:
    """A setting's value as its column holds it: JSON text for a dict, an enum's value."""
    if setting in _json_settings():
        return dump_json(value)
    return value.value if isinstance(value, enum.Enum) else value


@functools.cache
def _json_settings() -> frozenset[str]:
    return json_fields(JobSettings)


def _label_clause(index: int, *, sqlite: bool) -> str:
    """The job carries label ``index`` (a JSON text column: SQLite's json_extract, Postgres' jsonb)."""
    if sqlite:
        return f"json_extract(j.labels, :label_key_{index}) = :label_value_{index}"
    return f"(j.labels::jsonb ->> :label_key_{index}) = :label_value_{index}"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
