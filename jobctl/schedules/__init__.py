"""Schedules: validating ``scheduleConfig`` and computing when a job is due.

Everything here takes and returns aware UTC datetimes; wall-clock time exists only inside,
for cron. Importing the package is cheap: croniter is loaded on the first cron parse and
nothing here touches pydantic.

::

    parse_schedule(job_type_id, config, default_timezone=..., anchor=...) -> Schedule
    Schedule.first_slot_at_or_after(t) / next_slot_after(t) -> datetime | None
    describe_schedule(job_type_id, config) -> str               # "every 1h30m"
    parse_every("1h30m"), crontab_config("*/5 * * * *"), parse_at("09:00", ...)  # CLI options

Modules: :mod:`.interval`, :mod:`.cron` (with :mod:`.cronfields` for the field grammar and
:mod:`.cronsearch` for croniter), :mod:`.date`, :mod:`.zones` (wall time and UTC),
:mod:`.durations`, :mod:`.checks` (error collection), :mod:`.dispatch`, and :mod:`.timing` (a job's
next run: slot plus jitter).
"""

from __future__ import annotations

from jobctl.schedules.cron import CronSchedule, crontab_config
from jobctl.schedules.date import DateSchedule, parse_at
from jobctl.schedules.dispatch import describe_schedule, parse_schedule
from jobctl.schedules.durations import parse_every
from jobctl.schedules.interval import IntervalSchedule
from jobctl.schedules.protocol import Schedule

__all__ = [
    "CronSchedule",
    "DateSchedule",
    "IntervalSchedule",
    "Schedule",
    "crontab_config",
    "describe_schedule",
    "parse_at",
    "parse_every",
    "parse_schedule",
]
