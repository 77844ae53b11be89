"""Cron schedules: matching wall-clock times in the job's zone, handed out as UTC slots.

A config is either APScheduler-style fields or ``{"expression": "<crontab>"}`` (see
:mod:`jobctl.schedules.cronfields` for what each accepts), plus ``timezone`` (default: the
scheduler's), ``start_date`` and ``end_date`` (ISO 8601; without an offset they are read in
the job's zone, as APScheduler does) and ``jitter`` (seconds, kept for the scheduler).

A start date that is itself a slot fires at it; the end date is inclusive. Wall times are
turned into instants by :mod:`jobctl.schedules.zones`, so a daily job fires once a day
across DST changes and slots strictly increase.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from jobctl.errors import ValidationFailed
from jobctl.models import JobType
from jobctl.schedules.checks import Problems, as_mapping, check_keys, present, take_count, take_instant, take_zone
from jobctl.schedules.cronfields import FIELD_ORDER, CronSpec, FieldError, crontab_spec, fields_spec
from jobctl.schedules.cronsearch import HORIZON_YEARS, WallSearch, build_search
from jobctl.schedules.zones import UnknownZone, as_utc, load_zone, search_floor, wall_to_utc

COMMON_KEYS = ("start_date", "end_date", "timezone", "jitter")
KEYS = frozenset({*FIELD_ORDER, "expression", *COMMON_KEYS})
_TICK = timedelta(microseconds=1)
_BLAME_ORDER = ("day", "week", "day_of_week", "month", "year", "hour", "minute", "second")
"""Which given field to name when the fields together never match: the likeliest culprit first."""


class CronSchedule:
    """Slots at the wall times a cron spec matches in ``timezone``, within the start/end dates."""

    __slots__ = ("_search", "_zone", "end", "jitter_seconds", "start", "timezone")

    def __init__(
        self,
        search: WallSearch,
        zone: tzinfo,
        *,
        timezone: str,
        start: datetime | None = None,
        end: datetime | None = None,
        jitter_seconds: int = 0,
    ) -> None:
        self._search = search
        self._zone = zone
        self.timezone = timezone
        self.start = start
        self.end = end
        self.jitter_seconds = jitter_seconds

    @property
    def job_type(self) -> JobType:
        return JobType.CRON

    @property
    def zone(self) -> tzinfo:
        return self._zone

    @property
    def search(self) -> WallSearch:
        """The spec's fields and wall-time search (the missed-range count reads its times of day)."""
        return self._search

    def __repr__(self) -> str:
        return f"CronSchedule({self._search.expression!r}, timezone={self.timezone!r})"

    def first_slot_at_or_after(self, t: datetime) -> datetime | None:
        t = as_utc(t)
        if self.start is not None and t < self.start:
            t = self.start
        return self._until_end(self.unbounded_slot_after(t - _TICK))

    def next_slot_after(self, t: datetime) -> datetime | None:
        t = as_utc(t)
        if self.start is not None and t < self.start:
            return self.first_slot_at_or_after(self.start)
        return self._until_end(self.unbounded_slot_after(t))

    def _until_end(self, slot: datetime | None) -> datetime | None:
        if slot is None or (self.end is not None and slot > self.end):
            return None
        return slot

    def unbounded_slot_after(self, t: datetime) -> datetime | None:
        """The first matching instant strictly after UTC ``t``, ignoring start and end dates.

        None also when the answer would lie beyond what datetime can hold (year 9999).
        """
        pair = self.unbounded_wall_slot_after(t)
        return None if pair is None else pair[1]

    def unbounded_wall_slot_after(self, t: datetime) -> tuple[datetime, datetime] | None:
        """Like :meth:`unbounded_slot_after`, with the naive wall time that matched first.

        The wall time differs from the slot on the zone's clock when it fell in a DST gap.
        """
        try:
            wall = search_floor(t, self._zone)
            for _ in range(8):  # a second round only if a wall time maps to <= t; see zones
                found = self._search.next_after(wall)
                if found is None:
                    return None
                slot = wall_to_utc(found, self._zone)
                if slot > t:
                    return found, slot
                wall = found
        except OverflowError:
            pass
        return None


def parse_cron(config: object, *, default_timezone: str, anchor: datetime) -> CronSchedule:
    """Validate a cron config and build its schedule.

    :raises ValidationFailed: naming every bad field; also when the schedule has no slot at
        or after ``anchor`` (and ``start_date``) within its end date or the search horizon.
    """
    problems = Problems()
    values = as_mapping(config, problems)
    check_keys(values, KEYS, problems)
    zone = take_zone(values, "timezone", default_timezone, problems)
    start = take_instant(values, "start_date", zone, problems)
    end = take_instant(values, "end_date", zone, problems)
    jitter = take_count(values, "jitter", problems)
    spec = _spec(values, problems)
    if start is not None and end is not None and end < start:
        problems.add("end_date", "must not be before start_date")
    problems.raise_if_any()
    assert spec is not None and zone is not None  # both recorded an error otherwise
    search = build_search(spec)
    if search is None:
        raise ValidationFailed.field(["scheduleConfig", "day"], "none of these days falls on an allowed day_of_week")
    name = values.get("timezone") or default_timezone
    schedule = CronSchedule(search, zone, timezone=name, start=start, end=end, jitter_seconds=jitter)
    _check_fires(schedule, values, spec, as_utc(anchor))
    return schedule


def _spec(values: Mapping[str, Any], problems: Problems) -> CronSpec | None:
    """The spec from the expression or the fields, recording problems under their keys."""
    if present(values, "expression"):
        for key in FIELD_ORDER:
            if present(values, key):
                problems.add(key, "cannot be combined with expression: use either one or the other")
        expression = values["expression"]
        if not isinstance(expression, str):
            problems.add("expression", "value is not a valid string", "type_error.str")
            return None
        try:
            return crontab_spec(expression)
        except FieldError as exc:
            problems.add("expression", str(exc))
            return None
    if not any(present(values, key) for key in FIELD_ORDER):
        problems.add(None, f"give expression or at least one of {', '.join(FIELD_ORDER)}", "value_error.missing")
        return None
    spec, errors = fields_spec(values)
    for key, message in errors.items():
        problems.add(key, message)
    return spec


def _check_fires(schedule: CronSchedule, values: Mapping[str, Any], spec: CronSpec, anchor: datetime) -> None:
    """A schedule that cannot fire would be a job that silently never runs: refuse it."""
    begin = max(anchor, schedule.start) if schedule.start is not None else anchor
    first = schedule.unbounded_slot_after(begin - _TICK)
    if first is not None and (schedule.end is None or first <= schedule.end):
        return
    if first is not None:
        raise ValidationFailed.field(["scheduleConfig", "end_date"], "leaves no run: the first slot comes after it")
    key: str | None = "expression"
    if not present(values, "expression"):
        late = spec.years and max(spec.years) < begin.year
        key = "year" if late else next((name for name in _BLAME_ORDER if present(values, name)), None)
    loc = ["scheduleConfig"] if key is None else ["scheduleConfig", key]
    raise ValidationFailed.field(loc, f"the schedule never fires: no matching time within {HORIZON_YEARS} years")


def crontab_config(expression: str, timezone: str | None = None) -> dict[str, Any]:
    """The cron config for ``--cron EXPR``, after checking the expression can fire.

    :raises ValidationFailed: at ``["cron"]`` for a bad or never-firing expression, at
        ``["timezone"]`` for an unknown zone.
    """
    text = " ".join(expression.split())
    try:
        spec = crontab_spec(text)
    except FieldError as exc:
        raise ValidationFailed.field(["cron"], f"{text!r}: {exc}") from None
    zone: tzinfo = UTC
    if timezone is not None:
        try:
            zone = load_zone(timezone)
        except UnknownZone:
            raise ValidationFailed.field(["timezone"], f"unknown time zone {timezone!r}") from None
    search = build_search(spec)
    schedule = None if search is None else CronSchedule(search, zone, timezone=str(zone))
    if schedule is None or schedule.unbounded_slot_after(datetime.now(UTC)) is None:
        raise ValidationFailed.field(["cron"], f"{text!r} never fires")
    return {"expression": text} if timezone is None else {"expression": text, "timezone": timezone}
