"""What the scheduler needs from a schedule, whatever its kind."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from jobctl.models import JobType


class Schedule(Protocol):
    """Computes the slots (UTC instants) at which a job is due.

    Slots are strictly increasing aware UTC datetimes. Both methods take an aware datetime
    (a naive one raises ValueError: it is a bug in the caller, never a user error) and
    return None once no slot is left (past the end date, or a one-shot that has happened).
    The attributes are read-only; they are declared as properties so frozen dataclasses
    satisfy the protocol.
    """

    @property
    def job_type(self) -> JobType: ...

    @property
    def jitter_seconds(self) -> int:
        """Random delay, up to this many seconds, the scheduler may add to each run (0: none)."""
        ...

    @property
    def timezone(self) -> str | None:
        """The IANA zone a cron schedule is evaluated in; None for interval and date."""
        ...

    def first_slot_at_or_after(self, t: datetime) -> datetime | None:
        """The earliest slot ``>= t``."""
        ...

    def next_slot_after(self, t: datetime) -> datetime | None:
        """The earliest slot ``> t``."""
        ...
