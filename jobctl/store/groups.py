"""Concurrency groups: each group's limit as the daemons declare it, and the row a run's start locks.

The limits come from ``[[concurrency_groups]]`` in the config; every daemon writes its own at
start and on reload (:meth:`GroupRecords.sync`), as it does its task functions. A transaction
that starts a run of a group first locks the group's row (:meth:`GroupRecords.lock`), then
counts the group's running executions: two daemons, or a claim and a retry, cannot both take
the last place (docs/concurrency-groups.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from jobctl.models import ConcurrencyGroup, ExecutionStatus
from jobctl.store.database import Database

GROUP_RUNNING_SQL = "SELECT COUNT(*) FROM executions WHERE concurrency_group = :name AND status = :running"
RUNNING_BY_GROUP_SQL = """
    SELECT concurrency_group AS name, COUNT(*) AS n FROM executions
    WHERE status = :running AND concurrency_group IS NOT NULL GROUP BY concurrency_group
"""
GROUP_USAGE_SQL = """
    SELECT g.name, g.max_running,
        (SELECT COUNT(*) FROM executions e WHERE e.concurrency_group = g.name AND e.status = :running) AS running,
        (SELECT COUNT(*) FROM executions e WHERE e.concurrency_group = g.name AND e.status = :pending) AS waiting
    FROM concurrency_groups g ORDER BY g.name
"""
"""The group questions name a group, which implies the condition of the partial index
``ix_executions_group_status`` (``concurrency_group IS NOT NULL``, migration 0026): both stores
answer them from it, and runs without a group have no entry in it."""


@dataclass(frozen=True, kw_only=True)
class GroupUsage:
    """A group's limit and how many of its runs are running and waiting right now."""

    name: str
    limit: int
    running: int
    waiting: int


class GroupRecords:
    """Reads and writes the ``concurrency_groups`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def sync(self, groups: Sequence[ConcurrencyGroup], *, now: datetime) -> None:
        """Make the stored groups exactly ``groups`` (a config's), in one transaction."""
        with self.db.transaction():
            names = {f"g{n}": group.name for n, group in enumerate(groups)}
            keep = f"WHERE name NOT IN ({', '.join(':' + key for key in names)})" if names else ""
            self.db.execute(f"DELETE FROM concurrency_groups {keep}", names)
            for group in groups:
                self.db.execute(
                    """
                    INSERT INTO concurrency_groups (name, max_running, updated_at) VALUES (:name, :limit, :now)
                    ON CONFLICT (name) DO UPDATE SET max_running = :limit, updated_at = :now
                    """,
                    {"name": group.name, "limit": group.limit, "now": now},
                )

    def lock(self, name: str) -> int | None:
        """The group's limit, its row locked until the transaction ends (SQLite's write lock
        already excludes every other writer); None for a group no daemon declares."""
        suffix = "" if self.db.is_sqlite else " FOR UPDATE"
        value = self.db.scalar(f"SELECT max_running FROM concurrency_groups WHERE name = :name{suffix}", {"name": name})
        return None if value is None else int(value)

    def limits(self) -> dict[str, int]:
        rows = self.db.fetch_all("SELECT name, max_running FROM concurrency_groups")
        return {row["name"]: int(row["max_running"]) for row in rows}

    def running(self, name: str) -> int:
        """Running executions counted against the group."""
        return int(
            self.db.scalar(
                GROUP_RUNNING_SQL,
                {"name": name, "running": ExecutionStatus.RUNNING.value},
            )
        )

    def running_by_group(self) -> dict[str, int]:
        rows = self.db.fetch_all(RUNNING_BY_GROUP_SQL, {"running": ExecutionStatus.RUNNING.value})
        return {row["name"]: int(row["n"]) for row in rows}

    def usage(self) -> list[GroupUsage]:
        """Every declared group with its running and waiting (pending) executions, by name."""
        rows = self.db.fetch_all(
            GROUP_USAGE_SQL,
            {"running": ExecutionStatus.RUNNING.value, "pending": ExecutionStatus.PENDING.value},
        )
        return [
            GroupUsage(name=row["name"], limit=int(row["max_running"]), running=int(row["running"]),
                       waiting=int(row["waiting"]))
            for row in rows
        ]  # fmt: skip
