"""One-shot schedules: a single run at a given instant (``--at``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from jobctl.errors import ValidationFailed
from jobctl.models import JobType
from jobctl.schedules.checks import Problems, as_mapping, check_keys, present, take_instant, take_zone
from jobctl.schedules.iso_times import TIME_OF_DAY_FORM, not_a_time, parse_time_of_day
from jobctl.schedules.zones import UnknownZone, as_utc, format_utc, load_zone, parse_iso, wall_to_utc

KEYS = frozenset({"run_date", "timezone"})


@dataclass(frozen=True, kw_only=True)
class DateSchedule:
    """The single slot ``run_date``."""

    run_date: datetime

    @property
    def job_type(self) -> JobType:
        return JobType.DATE

    @property
    def jitter_seconds(self) -> int:
        return 0

    @property
    def timezone(self) -> str | None:
        return None

    def first_slot_at_or_after(self, t: datetime) -> datetime | None:
        return self.run_date if as_utc(t) <= self.run_date else None

    def next_slot_after(self, t: datetime) -> datetime | None:
        return self.run_date if as_utc(t) < self.run_date else None


def parse_date(config: object, *, default_timezone: str, anchor: datetime) -> DateSchedule:
    """Validate ``{"run_date": ..., "timezone"?: ...}``; a naive run_date is read in the zone.

    :raises ValidationFailed: naming every bad field, also for a run_date before ``anchor``
        (the job could never run).
    """
    problems = Problems()
    values = as_mapping(config, problems)
    check_keys(values, KEYS, problems)
    zone = take_zone(values, "timezone", default_timezone, problems)
    if not present(values, "run_date"):
        problems.add("run_date", "field required", "value_error.missing")
    run_date = take_instant(values, "run_date", zone, problems)
    problems.raise_if_any()
    assert run_date is not None
    if run_date < as_utc(anchor):
        problems.add("run_date", f"{format_utc(run_date)} is in the past: the job could never run")
        problems.raise_if_any()
    return DateSchedule(run_date=run_date)


def parse_at(text: str, *, default_timezone: str, now: datetime) -> dict[str, str]:
    """The date config for ``--at TIME``.

    ``TIME`` is an ISO 8601 date or date-time (with an offset or ``Z``, or without one to mean
    local time in ``default_timezone``), or a time of day like ``09:00`` meaning its next
    occurrence after ``now`` on the local clock: the forms of :mod:`jobctl.schedules.iso_times`.

    :raises ValidationFailed: at ``["at"]`` for anything unreadable or in the past, at
        ``["timezone"]`` for a zone that does not exist (the one ``--timezone`` gave: the
        config's own was checked when it was read).
    """
    try:
        zone = load_zone(default_timezone)
    except UnknownZone:
        raise ValidationFailed.field(["timezone"], f"unknown time zone {default_timezone!r}") from None
    try:
        run_date = _next_time_of_day(parse_time_of_day(text), zone, as_utc(now))
    except ValueError:
        try:
            run_date = parse_iso(text, zone)
        except ValueError:
            raise ValidationFailed.field(["at"], not_a_time(text, TIME_OF_DAY_FORM)) from None
        if run_date <= as_utc(now):
            raise ValidationFailed.field(["at"], f"{text!r} is in the past") from None
    return {"run_date": format_utc(run_date)}


def _next_time_of_day(clock: time, zone: tzinfo, now: datetime) -> datetime:
    """The first instant after ``now`` whose wall time in ``zone`` (or the time's own offset) is ``clock``."""
    where = clock.tzinfo or zone
    today = now.astimezone(where).date()
    wall = datetime.combine(today, clock.replace(tzinfo=None))
    instant = wall_to_utc(wall, where)
    return instant if instant > now else wall_to_utc(wall + timedelta(days=1), where)
