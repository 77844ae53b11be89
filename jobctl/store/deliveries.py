"""Notification deliveries: one row per (event, subject, notifier), claimed by the leader to send.

A row is written in the transaction that records what caused it, under a unique ``dedupe_key``
(``event:subject:notifier``), so an outcome recorded twice or a check that fires on two daemons
still makes one delivery. The leader claims due rows for a while (``claimed_until``) in a
transaction that also checks its lease, exactly as it claims schedule slots; another leader can
take a row only once that claim has run out (docs/notifications.md).
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jobctl.models import Delivery, DeliveryStatus
from jobctl.store.database import Database, Row, to_utc
from jobctl.store.records import dump_json, load_json
from jobctl.store.text import optional_text

_COLUMNS = (
    "id", "dedupe_key", "event", "job_id", "job_name", "execution_id", "notifier", "status", "payload",
    "created_at", "next_attempt_at", "last_error",
)  # fmt: skip
_INSERT_SQL = (
    f"INSERT INTO notification_deliveries ({', '.join(_COLUMNS)}, attempts)"
    f" VALUES ({', '.join(':' + name for name in _COLUMNS)}, 0) ON CONFLICT DO NOTHING"
)
LAST_ERROR_MAX = 2000
NO_SUCH_NOTIFIER = "no notifier of this name in the daemon's config"
"""The ``lastError`` of a delivery to a notifier the config lacks (it was removed while jobs still
name it): failed at once, never tried (docs/notifications.md)."""


@dataclass(frozen=True, kw_only=True)
class NewDelivery:
    """A delivery to write; ``payload`` is the event JSON (its ``deliveryId`` is ``id``)."""

    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    event: str
    subject: str
    """What the event is about, for the unique key: an execution id, or a job id and a moment."""
    job_id: str | None
    job_name: str | None
    execution_id: str | None
    notifier: str
    payload: dict[str, Any]
    created_at: datetime
    failed_because: str | None = None
    """Written ``failed`` with this error instead of ``pending``: there is nothing to try (its
    notifier is not in the config)."""

    def row(self) -> dict[str, Any]:
        status = DeliveryStatus.PENDING if self.failed_because is None else DeliveryStatus.FAILED
        return {
            "id": self.id, "dedupe_key": f"{self.event}:{self.subject}:{self.notifier}", "event": self.event,
            "job_id": self.job_id, "job_name": self.job_name, "execution_id": self.execution_id,
            "notifier": self.notifier, "status": status.value,
            "payload": dump_json({**self.payload, "deliveryId": self.id}),
            "created_at": self.created_at, "next_attempt_at": self.created_at, "last_error": self.failed_because,
        }  # fmt: skip


class DeliveryRecords:
    """Reads and writes the ``notification_deliveries`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def insert_many(self, news: Sequence[NewDelivery]) -> int:
        """Write deliveries, leaving out those whose (event, subject, notifier) exists; how many were new."""
        return len(self.insert_new(news))

    def insert_new(self, news: Sequence[NewDelivery]) -> builtins.list[NewDelivery]:
        """Write deliveries, leaving out those whose (event, subject, notifier) exists; those written."""
        if not news:
            return []
        written = self.db.execute_many(_INSERT_SQL, [new.row() for new in news])
        return [new for new, count in zip(news, written, strict=True) if count]

    def claim_due(
        self, *, now: datetime, until: datetime, instance_id: str, limit: int, notifier: str
    ) -> builtins.list[Delivery]:
        """Take ``notifier``'s pending deliveries that are due and not claimed by anyone, until ``until``.

        Call inside the transaction that checks the lease: a row goes to one leader at a time.
        """
        params = {"pending": DeliveryStatus.PENDING.value, "now": now, "notifier": notifier}
        ids = [
            row["id"]
            for row in self.db.fetch_all(
                """
                SELECT id FROM notification_deliveries
                WHERE status = :pending AND notifier = :notifier AND next_attempt_at <= :now
                    AND (claimed_until IS NULL OR claimed_until < :now)
                ORDER BY next_attempt_at LIMIT :limit
                """,
                {**params, "limit": limit},
            )
        ]
        if not ids:
            return []
        keys = {f"d{n}": value for n, value in enumerate(ids)}
        in_ids = ", ".join(":" + key for key in keys)
        self.db.execute(
            f"""
            UPDATE notification_deliveries SET claimed_by = :me, claimed_until = :until
            WHERE id IN ({in_ids}) AND status = :pending AND (claimed_until IS NULL OR claimed_until < :now)
            """,
            {**params, **keys, "me": instance_id, "until": until},
        )
        rows = self.db.fetch_all(
            f"SELECT * FROM notification_deliveries WHERE id IN ({in_ids})"
            " AND claimed_by = :me AND claimed_until = :until",
            {**keys, "me": instance_id, "until": until},
        )
        return [delivery_from_row(row) for row in rows]

    def claim_of_execution(
        self, execution_id: str, *, notifier: str, now: datetime, until: datetime, instance_id: str
    ) -> builtins.list[Delivery]:
        """Take the due deliveries of one execution to ``notifier`` that nobody holds, until ``until``
        (``jobctl run`` sending its own run's notifications when no daemon leads)."""
        params = {"pending": DeliveryStatus.PENDING.value, "now": now, "notifier": notifier,
                  "execution_id": execution_id, "me": instance_id, "until": until}  # fmt: skip
        self.db.execute(
            """
            UPDATE notification_deliveries SET claimed_by = :me, claimed_until = :until
            WHERE execution_id = :execution_id AND notifier = :notifier AND status = :pending
                AND next_attempt_at <= :now AND (claimed_until IS NULL OR claimed_until < :now)
            """,
            params,
        )
        rows = self.db.fetch_all(
            "SELECT * FROM notification_deliveries WHERE execution_id = :execution_id AND notifier = :notifier"
            " AND claimed_by = :me AND claimed_until = :until ORDER BY created_at",
            params,
        )
        return [delivery_from_row(row) for row in rows]

    def mark_sent(self, delivery_id: str, *, instance_id: str, now: datetime) -> bool:
        """Record a delivery the receiver took; False if this instance no longer held its claim."""
        return (
            self.db.execute(
                """
                UPDATE notification_deliveries SET status = :sent, sent_at = :now, attempts = attempts + 1,
                    claimed_by = NULL, claimed_until = NULL
                WHERE id = :id AND claimed_by = :me AND status = :pending
                """,
                {
                    "sent": DeliveryStatus.SENT.value,
                    "now": now,
                    "id": delivery_id,
                    "me": instance_id,
                    "pending": DeliveryStatus.PENDING.value,
                },
            )
            > 0
        )

    def mark_attempt_failed(self, delivery_id: str, *, instance_id: str, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt: retried at ``retry_at``, or ``failed`` for good when None."""
        status = DeliveryStatus.PENDING if retry_at is not None else DeliveryStatus.FAILED
        self.db.execute(
            """
            UPDATE notification_deliveries SET status = :status, attempts = attempts + 1, last_error = :error,
                next_attempt_at = COALESCE(:retry_at, next_attempt_at), claimed_by = NULL, claimed_until = NULL
            WHERE id = :id AND claimed_by = :me AND status = :pending
            """,
            {"status": status.value, "error": optional_text(error[:LAST_ERROR_MAX]), "retry_at": retry_at,
             "id": delivery_id, "me": instance_id, "pending": DeliveryStatus.PENDING.value},
        )  # fmt: skip

    def fail_unknown_notifiers(self, known: Sequence[str], *, now: datetime) -> builtins.list[Delivery]:
        """Give up on the pending deliveries to notifiers that left the config, due or waiting for
        their next try, but not one a sender holds a claim on now (its send is under way: its result
        is recorded, then a later pass fails it if it was not sent); those given up, as they were.
        Call inside a transaction."""
        keys = {f"n{n}": name for n, name in enumerate(known)}
        not_in = f"AND notifier NOT IN ({', '.join(':' + k for k in keys)})" if keys else ""
        params = {"pending": DeliveryStatus.PENDING.value, "now": now, **keys}
        unclaimed = "(claimed_until IS NULL OR claimed_until < :now)"
        rows = self.db.fetch_all(
            f"SELECT * FROM notification_deliveries WHERE status = :pending AND {unclaimed} {not_in}", params
        )
        if not rows:
            return []
        ids = {f"d{n}": row["id"] for n, row in enumerate(rows)}
        self.db.execute(
            f"""
            UPDATE notification_deliveries SET status = :failed, last_error = :error, next_attempt_at = :now
            WHERE id IN ({", ".join(":" + key for key in ids)}) AND status = :pending AND {unclaimed}
            """,
            {**params, **ids, "failed": DeliveryStatus.FAILED.value, "error": NO_SUCH_NOTIFIER},
        )
        return [delivery_from_row(row) for row in rows]

    def earliest_due(self) -> datetime | None:
        """When the next pending delivery can be claimed: due and not claimed (None: nothing pending)."""
        return to_utc(
            self.db.scalar(
                """
                SELECT MIN(CASE WHEN claimed_until IS NOT NULL AND claimed_until > next_attempt_at
                    THEN claimed_until ELSE next_attempt_at END)
                FROM notification_deliveries WHERE status = :pending
                """,
                {"pending": DeliveryStatus.PENDING.value},
            )
        )

    def list(
        self, *, job_id: str | None, status: str | None, limit: int, offset: int
    ) -> tuple[builtins.list[Delivery], int]:
        """One page, newest first, and the total for the filters."""
        clauses, params = [], {}
        if job_id is not None:
            clauses.append("job_id = :job_id")
            params["job_id"] = job_id
        if status is not None:
            clauses.append("status = :status")
            params["status"] = status
        where = "WHERE " + " AND ".join(clauses) if clauses else ""
        total = int(self.db.scalar(f"SELECT COUNT(*) FROM notification_deliveries {where}", params))
        rows = self.db.fetch_all(
            f"SELECT * FROM notification_deliveries {where} ORDER BY created_at DESC, id DESC"
            " LIMIT :limit OFFSET :offset",
            {**params, "limit": limit, "offset": offset},
        )
        return [delivery_from_row(row) for row in rows], total


def delivery_from_row(row: Row) -> Delivery:
    created = to_utc(row["created_at"])
    due = to_utc(row["next_attempt_at"])
    assert created is not None and due is not None
    return Delivery(
        id=row["id"],
        event=row["event"],
        job_id=row["job_id"],
        job_name=row["job_name"],
        execution_id=row["execution_id"],
        notifier=row["notifier"],
        status=DeliveryStatus(row["status"]),
        attempts=int(row["attempts"]),
        last_error=row["last_error"],
        payload=load_json(row["payload"]),
        created_at=created,
        next_attempt_at=due,
        sent_at=to_utc(row["sent_at"]),
    )
