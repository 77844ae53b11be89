"""The audit log: one row per change made through the service, never updated or deleted."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jobctl.models import AuditEntry
from jobctl.store.database import Database, Row, to_utc
from jobctl.store.records import dump_json, load_json
from jobctl.store.text import optional_text, storable_json


@dataclass(frozen=True, kw_only=True)
class NewAuditEntry:
    """An entry to write (the store numbers it)."""

    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str | None = None
    target_name: str | None = None
    reason: str | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class AuditFilter:
    """The filters of ``GET /audit``; the timeline asks for one target in a window."""

    target_type: str | None = None
    target_id: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> tuple[str, dict[str, Any]]:
        clauses: builtins.list[str] = []
        params: dict[str, Any] = {}
        for column in ("target_type", "target_id", "actor"):
            value = getattr(self, column)
            if value is not None:
                clauses.append(f"{column} = :{column}")
                params[column] = value
        if self.since is not None:
            clauses.append("at >= :since")
            params["since"] = self.since
        if self.until is not None:
            clauses.append("at <= :until")
            params["until"] = self.until
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


class AuditRecords:
    """Reads and writes ``audit_log``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, entry: NewAuditEntry) -> None:
        """Write one entry; call it inside the transaction of the change it records."""
        self.db.execute(
            """
            INSERT INTO audit_log (at, actor, action, target_type, target_id, target_name, reason, details)
            VALUES (:at, :actor, :action, :target_type, :target_id, :target_name, :reason, :details)
            """,
            {
                "at": entry.at,
                "actor": entry.actor[:255],
                "action": entry.action,
                "target_type": entry.target_type,
                "target_id": entry.target_id,
                "target_name": None if entry.target_name is None else entry.target_name[:255],
                "reason": optional_text(entry.reason),
                "details": dump_json(storable_json(entry.details)),
            },
        )

    def list(self, filters: AuditFilter, *, limit: int, offset: int) -> tuple[builtins.list[AuditEntry], int]:
        """One page, newest first, and how many entries match."""
        where, params = filters.where()
        rows = self.db.fetch_all(
            f"SELECT * FROM audit_log {where} ORDER BY at DESC, id DESC LIMIT :limit OFFSET :offset",
            {**params, "limit": limit, "offset": offset},
        )
        total = int(self.db.scalar(f"SELECT COUNT(*) FROM audit_log {where}", params) or 0)
        return [_entry(row) for row in rows], total

    def of_target(self, target_type: str, target_id: str, *, until: datetime) -> builtins.list[AuditEntry]:
        """Every entry about one target up to ``until``, oldest first (a job's history of changes)."""
        rows = self.db.fetch_all(
            """
            SELECT * FROM audit_log WHERE target_type = :target_type AND target_id = :target_id AND at <= :until
            ORDER BY at, id
            """,
            {"target_type": target_type, "target_id": target_id, "until": until},
        )
        return [_entry(row) for row in rows]


def _entry(row: Row) -> AuditEntry:
    at = to_utc(row["at"])
    assert at is not None
    return AuditEntry(
        id=int(row["id"]),
        at=at,
        actor=row["actor"],
        action=row["action"],
        target_type=row["target_type"],
        target_id=row["target_id"],
        target_name=row["target_name"],
        reason=row["reason"],
        details=load_json(row["details"]),
    )
