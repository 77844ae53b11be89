"""JSON shapes of the audit log (``GET /audit``) and a job's timeline (``GET /jobs/{id}/timeline``).

Declared as TypedDicts like :mod:`jobctl.wire.responses` (whose :class:`Schema` and timestamp
rules they share): the service builds them, the API documents them, the remote client types
what it decodes with them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from typing_extensions import TypedDict

from jobctl.models import AuditEntry
from jobctl.wire.responses import Schema, Timestamp, timestamp


class AuditEntryOut(TypedDict):
    id: int
    at: Timestamp
    actor: Annotated[str, Schema("the API token's name, or local:UNIXUSER for the CLI on the store")]
    action: Annotated[str, Schema("job.created, job.updated, job.paused, token.revoked, ... (docs/audit-log.md)")]
    targetType: Annotated[str, Schema("job, token, task_functions, ...")]
    targetId: str | None
    targetName: str | None
    reason: str | None
    details: Annotated[dict[str, Any] | None, Schema("what changed; secrets masked")]


class AuditList(TypedDict):
    entries: list[AuditEntryOut]
    total: int


def audit_entry(entry: AuditEntry) -> AuditEntryOut:
    return {
        "id": entry.id,
        "at": timestamp(entry.at) or "",
        "actor": entry.actor,
        "action": entry.action,
        "targetType": entry.target_type,
        "targetId": entry.target_id,
        "targetName": entry.target_name,
        "reason": entry.reason,
        "details": entry.details,
    }


EventKind = Literal["run", "runs", "skipped", "missed", "change", "end", "pruned"]


class TimelineEvent(TypedDict):
    at: Annotated[Timestamp, Schema("the slot, or when it happened")]
    kind: Annotated[
        EventKind,
        Schema(
            "run: one execution; runs: consecutive executions of one status, grouped; skipped; "
            "missed: a range of slots that never ran; change: an audit entry; end: the schedule ended; "
            "pruned: retention removed the job's history from here until `until`"
        ),
    ]
    text: Annotated[str, Schema("the event in words, times in the timeline's zone")]
    status: str | None
    executionId: str | None
    count: Annotated[int, Schema("executions (runs) or slots (missed) the event stands for; 0 for pruned (unknown)")]
    until: Annotated[
        Timestamp | None, Schema("the last slot of a group or a missed range; for pruned, where kept history begins")
    ]
    latenessSeconds: Annotated[float | None, Schema("start minus slot; for a group, the largest")]
    actor: str | None
    action: str | None
    reason: str | None


class Verdict(TypedDict):
    slot: Annotated[
        Timestamp | None,
        Schema("the most recent slot that was due, or the job's next slot while it is past and unclaimed; or null"),
    ]
    outcome: Annotated[
        Literal["ran", "running", "not_run", "due", "none", "pruned"],
        Schema("what became of it; pruned: unknown, retention removed its history"),
    ]
    text: str


class JobTimeline(TypedDict):
    jobId: str
    jobName: str
    since: Timestamp
    until: Timestamp
    timezone: Annotated[str, Schema("the zone of the texts: a cron job's, else the scheduler's default")]
    events: list[TimelineEvent]
    nextSlot: Annotated[Timestamp | None, Schema("the job's next slot; null while paused or disabled, or at its end")]
    nextSlotOverdue: Annotated[
        str | None,
        Schema(
            'how long the next slot is past and why it waits ("overdue by 2m: no daemon is leading"); '
            "null when it is not past"
        ),
    ]
    verdict: Verdict


def event(
    at: str,
    kind: EventKind,
    text: str,
    *,
    status: str | None = None,
    execution_id: str | None = None,
    count: int = 1,
    until: str | None = None,
    lateness: float | None = None,
    actor: str | None = None,
    action: str | None = None,
    reason: str | None = None,
) -> TimelineEvent:
    return {
        "at": at, "kind": kind, "text": text, "status": status, "executionId": execution_id, "count": count,
        "until": until, "latenessSeconds": lateness, "actor": actor, "action": action, "reason": reason,
    }  # fmt: skip


HISTORY_SHAPES: tuple[type, ...] = (AuditEntryOut, AuditList, TimelineEvent, Verdict, JobTimeline)
"""The shapes the OpenAPI document closes (``additionalProperties: false``)."""
