"""Task functions and job types: what can be scheduled, and how."""

from __future__ import annotations

from datetime import datetime

from jobctl.models import JobTypeRecord, TaskFunction, TaskFunctionSpec
from jobctl.store.database import Database
from jobctl.store.records import job_type_from_row, task_function_from_row


class Catalog:
    """Reads and writes task functions and job types."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._job_types: list[JobTypeRecord] | None = None

    def list_task_functions(self, *, is_active: bool | None, limit: int, offset: int) -> tuple[list[TaskFunction], int]:
        """One page of task functions by id, and the total matching ``is_active``."""
        where, params = ("WHERE is_active = :active", {"active": is_active}) if is_active is not None else ("", {})
        total = int(self.db.scalar(f"SELECT COUNT(*) FROM task_functions {where}", params))
        rows = self.db.fetch_all(
            f"SELECT * FROM task_functions {where} ORDER BY id LIMIT :limit OFFSET :offset",
            {**params, "limit": limit, "offset": offset},
        )
        return [task_function_from_row(row) for row in rows], total

    def get_task_function(self, task_function_id: int) -> TaskFunction | None:
        row = self.db.fetch_one("SELECT * FROM task_functions WHERE id = :id", {"id": task_function_id})
        return task_function_from_row(row) if row else None

    def get_task_function_by_name(self, name: str) -> TaskFunction | None:
        row = self.db.fetch_one("SELECT * FROM task_functions WHERE name = :name", {"name": name})
        return task_function_from_row(row) if row else None

    def upsert_task_function(self, spec: TaskFunctionSpec, now: datetime) -> TaskFunction:
        """Insert ``spec`` or update the task function of the same name; returns the stored row."""
        params = {
            "name": spec.name,
            "display_name": spec.display_name,
            "description": spec.description,
            "handler_type": spec.handler_type,
            "handler_path": spec.handler_path,
            "queue": spec.queue,
            "default_timeout_seconds": spec.default_timeout_seconds,
            "is_active": spec.is_active,
            "is_system": spec.is_system,
            "now": now,
        }
        with self.db.transaction():
            self.db.execute(
                """
                INSERT INTO task_functions (name, display_name, description, handler_type, handler_path, queue,
                    default_timeout_seconds, is_active, is_system, created_at, updated_at)
                VALUES (:name, :display_name, :description, :handler_type, :handler_path, :queue,
                    :default_timeout_seconds, :is_active, :is_system, :now, :now)
                ON CONFLICT (name) DO UPDATE SET display_name = excluded.display_name,
                    description = excluded.description, handler_type = excluded.handler_type,
                    handler_path = excluded.handler_path, queue = excluded.queue,
                    default_timeout_seconds = excluded.default_timeout_seconds,
                    is_active = excluded.is_active, is_system = excluded.is_system, updated_at = excluded.updated_at
                """,
                params,
            )
            stored = self.get_task_function_by_name(spec.name)
        assert stored is not None
        return stored

    def deactivate_task_functions_except(self, keep: set[str], now: datetime) -> list[str]:
        """Mark every active task function not named in ``keep`` inactive; returns their names."""
        rows = self.db.fetch_all("SELECT name FROM task_functions WHERE is_active = :active", {"active": True})
        gone = sorted(row["name"] for row in rows if row["name"] not in keep)
        with self.db.transaction():
            for name in gone:
                self.db.execute(
                    "UPDATE task_functions SET is_active = :active, updated_at = :now WHERE name = :name",
                    {"active": False, "now": now, "name": name},
                )
        return gone

    def list_job_types(self) -> list[JobTypeRecord]:
        """The schedule kinds; read once per store object, as only migrations change them."""
        if self._job_types is None:
            rows = self.db.fetch_all("SELECT * FROM job_types ORDER BY id")
            self._job_types = [job_type_from_row(row) for row in rows]
        return list(self._job_types)

    def get_job_type(self, job_type_id: int) -> JobTypeRecord | None:
        return next((job_type for job_type in self.list_job_types() if job_type.id == job_type_id), None)
