"""Helpers shared by the schedule tests (a uniquely named module, not a conftest, so that it can be imported)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from jobctl.errors import ValidationFailed
from jobctl.schedules import Schedule, parse_schedule

ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def build(job_type: int, config: Mapping[str, Any], tz: str = "UTC", anchor: datetime = ANCHOR) -> Schedule:
    return parse_schedule(job_type, config, default_timezone=tz, anchor=anchor)


def slots(schedule: Schedule, start: datetime, count: int) -> list[datetime]:
    """The first ``count`` slots at or after ``start`` (fewer if the schedule ends)."""
    found: list[datetime] = []
    slot = schedule.first_slot_at_or_after(start)
    while slot is not None and len(found) < count:
        found.append(slot)
        slot = schedule.next_slot_after(slot)
    return found


def error_locs(call: Callable[[], object]) -> list[list[str | int]]:
    with pytest.raises(ValidationFailed) as info:
        call()
    return [error["loc"] for error in info.value.errors]
