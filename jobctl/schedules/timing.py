"""When a job runs next: its schedule's slots, the jitter added to them, and the first slot.

Shared by the service (a job created or changed) and the scheduler (a slot claimed), so both
agree, and the scheduler needs nothing from the service layer.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jobctl.errors import ValidationFailed
from jobctl.models import JobType
from jobctl.schedules.dispatch import parse_schedule
from jobctl.schedules.protocol import Schedule


@dataclass(frozen=True, kw_only=True)
class NextRun:
    """A slot of the schedule and the moment it is due (the slot plus jitter)."""

    slot: datetime | None
    run_time: datetime | None


NO_RUN = NextRun(slot=None, run_time=None)
END_OF_TIME = datetime.max.replace(tzinfo=UTC)
"""The last instant a datetime holds (year 9999): no run time may pass it."""


def build_schedule(job_type_id: int, config: Mapping[str, Any], *, default_timezone: str, anchor: datetime) -> Schedule:
    """Validate a schedule. :raises ValidationFailed: with ``loc`` under ``body.scheduleConfig``."""
    try:
        return parse_schedule(job_type_id, config, default_timezone=default_timezone, anchor=anchor)
    except ValidationFailed as exc:
        raise exc.prefixed("body") from None


def stored_config(job_type_id: int, config: Mapping[str, Any], default_timezone: str) -> dict[str, Any]:
    """The config as stored: cron jobs keep the zone they were created in, so every process agrees."""
    stored = dict(config)
    if job_type_id == JobType.CRON and not stored.get("timezone"):
        stored["timezone"] = default_timezone
    return stored


def first_run(schedule: Schedule, config: Mapping[str, Any], now: datetime) -> NextRun:
    """The first run from ``now`` on.

    An interval without ``start_date`` first runs one period after ``now`` (as APScheduler
    does); every other schedule fires at its first slot at or after ``now``.

    :raises ValidationFailed: at ``jitter`` when that slot plus the jitter passes the year 9999
        (a run time that cannot be represented, so the job could not be scheduled).
    """
    if schedule.job_type == JobType.INTERVAL and not config.get("start_date"):
        slot = schedule.next_slot_after(now)
    else:
        slot = schedule.first_slot_at_or_after(now)
    if slot is not None and END_OF_TIME - slot < timedelta(seconds=schedule.jitter_seconds):
        raise ValidationFailed.field(
            ["body", "scheduleConfig", "jitter"], "the first run plus the jitter would pass the end of the year 9999"
        )
    return with_jitter(schedule, slot)


def upcoming_slots(
    schedule: Schedule, config: Mapping[str, Any], *, next_slot: datetime | None, now: datetime, count: int
) -> list[datetime]:
    """The next ``count`` slots (fewer when the schedule ends): from the job's stored next slot
    when it is still to come, else from where the job would start now (a paused or disabled
    job: its slots once resumed). Start and end dates bound them as they bound runs."""
    first = next_slot if next_slot is not None and next_slot >= now else first_run(schedule, config, now).slot
    slots: list[datetime] = []
    while first is not None and len(slots) < count:
        slots.append(first)
        first = schedule.next_slot_after(first)
    return slots


def run_after(schedule: Schedule, moment: datetime) -> NextRun:
    """The first run strictly after ``moment`` (a slot just claimed, or now after a misfire)."""
    return with_jitter(schedule, schedule.next_slot_after(moment))


def with_jitter(schedule: Schedule, slot: datetime | None) -> NextRun:
    """``slot`` and its run time: up to ``jitter`` seconds later, never past :data:`END_OF_TIME`
    (a slot near the end of time is run within whatever room is left, not overflowed)."""
    if slot is None:
        return NO_RUN
    jitter = schedule.jitter_seconds
    delay = timedelta(seconds=random.uniform(0, jitter)) if jitter else timedelta(0)
    return NextRun(slot=slot, run_time=slot + min(delay, END_OF_TIME - slot))
