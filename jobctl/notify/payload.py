"""The event JSON: the webhook body, the command's standard input, the facts of a mail."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from jobctl.models import Execution, Job

MESSAGES = {
    "start": "{job} started",
    "success": "{job} succeeded",
    "failure": "{job} failed",
    "timeout": "{job} timed out",
    "recovery": "{job} recovered: it succeeded after failing",
    "output": "{job} printed output",
    "skipped": "{job} skipped a run",
    "missed": "{job} missed a run",
    "abandoned": "{job}: the daemon running it died; outcome unknown",
    "cancelled": "{job}: a run was cancelled",
    "paused": "{job} was paused",
    "late": "{job} started late",
    "long_running": "{job} is still running",
    "no_success": "{job} has not succeeded in time",
    "test": "test notification from jobctl: its job and run are samples, nothing ran",
}

TEST_JOB_NAME = "jobctl-test-job"
"""The sample job of a test event: every placeholder and field a real event fills is filled,
with values that say they are samples (docs/notifications.md, "What a test event holds")."""
TEST_JOB_ID = "00000000-0000-0000-0000-000000000000"
TEST_EXECUTION_ID = "00000000-0000-0000-0000-000000000001"
TEST_OUTPUT_TAIL = "sample output of a jobctl test notification\n"


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def tail_bytes(text: str, limit: int) -> str:
    """The end of ``text`` that fits in ``limit`` bytes of UTF-8 (never a broken character)."""
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text
    return data[len(data) - limit :].decode("utf-8", "ignore")


def execution_part(execution: Execution, *, exit_code: int | None = None) -> dict[str, Any]:
    result = execution.result if isinstance(execution.result, dict) else {}
    code = exit_code if exit_code is not None else result.get("exitCode")
    return {
        "id": execution.id,
        "status": str(execution.status),
        "attempt": execution.attempt,
        "scheduledFor": iso(execution.scheduled_for),
        "startedAt": iso(execution.started_at),
        "completedAt": iso(execution.completed_at),
        "durationSeconds": execution.duration_seconds,
        "exitCode": code if isinstance(code, int) else None,
        "errorMessage": execution.error_message,
    }


def event_payload(
    event: str,
    *,
    occurred_at: datetime,
    host: str,
    job: Job | None,
    execution: Execution | None,
    output_tail: str | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    """The event JSON without its ``deliveryId`` (each delivery adds its own)."""
    name = job.name if job is not None else "jobctl"
    return {
        "event": event,
        "occurredAt": iso(occurred_at),
        "deliveryId": None,
        "host": host,
        "job": {"id": job.id, "name": job.name} if job is not None else None,
        "execution": execution_part(execution) if execution is not None else None,
        "outputTail": output_tail,
        "message": message or MESSAGES.get(event, event).format(job=name),
    }


def sample_test_event(*, occurred_at: datetime, host: str) -> dict[str, Any]:
    """The ``test`` event: a real event's shape with a sample job and a sample successful run.

    A template (a webhook URL's ``{job_name}``, a mail's subject, a command's
    ``JOBCTL_JOB_NAME``) is checked only when the test fills what a real event fills, so nothing
    is left empty; each value names itself a sample (the nil UUID, ``jobctl-test-job``), and the
    event stays ``test``. ``deliveryId`` is new at every test, so a receiver that drops copies
    by it does not drop the second test.
    """
    payload = event_payload(
        "test", occurred_at=occurred_at, host=host, job=None, execution=None, output_tail=TEST_OUTPUT_TAIL
    )
    at = iso(occurred_at)
    sample_run = {
        "id": TEST_EXECUTION_ID, "status": "success", "attempt": 1, "scheduledFor": None, "startedAt": at,
        "completedAt": at, "durationSeconds": 0.0, "exitCode": 0, "errorMessage": None,
    }  # fmt: skip
    return {
        **payload,
        "deliveryId": str(uuid.uuid4()),
        "job": {"id": TEST_JOB_ID, "name": TEST_JOB_NAME},
        "execution": sample_run,
    }
