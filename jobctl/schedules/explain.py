"""What a crontab expression means, before any job uses it: ``jobctl cron explain``.

It reuses the parser that ``jobs create --cron`` uses (:func:`crontab_config`), so an
expression is accepted or refused here exactly as it would be there, with the same message.
On top of that it gives what a person checks a schedule by: the fields as jobctl reads them
(macros expanded, names lower-cased, the seconds field always present), the English meaning
(:mod:`jobctl.schedules.english`), the next instants in the zone and in UTC, and warnings
about expressions that do not do what they look like:

* ``step`` - a ``*/n`` whose step does not divide its field's range (``*/35`` in minutes runs
  at :00 and :35, not every 35 minutes): the count starts again each hour, day, month...;
* ``day_or_weekday`` - day of month and weekday both restricted: cron runs on days that
  match *either*, not both;
* ``dst_gap`` / ``dst_fold`` - one of the listed instants comes from a wall time that does
  not exist that day in the zone (it runs at the first valid instant after it) or exists twice
  (it runs once, at the first).

No store, no config, no pydantic: it must start as fast as ``jobs list``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from jobctl.errors import ValidationFailed
from jobctl.schedules.cron import CronSchedule, crontab_config
from jobctl.schedules.cronfields import CRONTAB_ORDER, SECONDS_FIRST_ORDER, crontab_spec, expand_macro
from jobctl.schedules.cronsearch import build_search
from jobctl.schedules.english import describe_expression
from jobctl.schedules.zones import UnknownZone, as_utc, format_utc, load_zone

MAX_COUNT = 100
_TICK = timedelta(microseconds=1)
_FIELD_NAMES = {"day_of_week": "weekday"}
_RANGE_SIZES = {"second": 60, "minute": 60, "hour": 24, "day": 31, "month": 12, "day_of_week": 7}
_RESTART_UNITS = {"second": "minute", "minute": "hour", "hour": "day", "day": "month", "month": "year"}


@dataclass(frozen=True, kw_only=True)
class Warning_:
    """A lint finding: a stable ``code`` for scripts and a ``message`` for people."""

    code: str
    message: str


@dataclass(frozen=True, kw_only=True)
class Instant:
    """One upcoming run: the instant in UTC and on the zone's clock, and how DST moved it."""

    utc: datetime
    local: datetime
    note: Warning_ | None = None


@dataclass(frozen=True, kw_only=True)
class Explanation:
    """Everything ``cron explain`` shows about one expression."""

    expression: str
    fields: dict[str, str]
    description: str
    timezone: str
    next: list[Instant]
    warnings: list[Warning_]

    def as_json(self) -> dict[str, object]:
        """The ``--json`` shape: instants as ISO 8601 (local with its offset, UTC with ``Z``)."""
        return {
            "expression": self.expression,
            "fields": self.fields,
            "description": self.description,
            "timezone": self.timezone,
            "next": [{"local": i.local.isoformat(), "utc": format_utc(i.utc)} for i in self.next],
            "warnings": [{"code": w.code, "message": w.message} for w in self.warnings],
        }


def explain(expression: str, *, timezone: str, after: datetime, count: int) -> Explanation:
    """Explain ``expression`` in ``timezone``, listing its first ``count`` instants after ``after``.

    :raises ValidationFailed: at ``["cron"]`` for a bad expression (the message of
        ``jobs create --cron``), at ``["timezone"]`` for an unknown zone, at ``["count"]``
        for a count outside 1..100.
    """
    if not 1 <= count <= MAX_COUNT:
        raise ValidationFailed.field(["count"], f"must be between 1 and {MAX_COUNT}, not {count}")
    config = crontab_config(expression, timezone)
    text = config["expression"]
    zone = _zone(timezone)
    fields = normalized_fields(text)
    search = build_search(crontab_spec(text))
    assert search is not None  # crontab_config refused it otherwise
    schedule = CronSchedule(search, zone, timezone=timezone)
    walls = _next_walls(schedule, as_utc(after), count)
    instants = [
        Instant(utc=utc, local=utc.astimezone(zone), note=_dst_note(wall, utc, zone, timezone)) for wall, utc in walls
    ]
    warnings = [*lint_fields(fields), *(instant.note for instant in instants if instant.note is not None)]
    description = describe_expression(" ".join(fields[name] for name in SECONDS_FIRST_ORDER))
    return Explanation(
        expression=text,
        fields=fields,
        description=description,
        timezone=timezone,
        next=instants,
        warnings=warnings,
    )


def _zone(name: str) -> tzinfo:
    try:
        return load_zone(name)
    except UnknownZone:
        raise ValidationFailed.field(["timezone"], f"unknown time zone {name!r}") from None


def normalized_fields(expression: str) -> dict[str, str]:
    """The six fields by name, seconds included (``"0"`` for a five-field expression)."""
    parts = expand_macro(expression).split()
    order = CRONTAB_ORDER if len(parts) == 5 else SECONDS_FIRST_ORDER
    named = dict(zip(order, parts, strict=True))
    return {name: named.get(name, "0") for name in SECONDS_FIRST_ORDER}


def lint_fields(fields: dict[str, str]) -> list[Warning_]:
    """Warnings about fields that parse but likely do not mean what they seem to."""
    found: list[Warning_] = []
    for name, text in fields.items():
        for part in text.split(","):
            warning = _uneven_step(name, part)
            if warning is not None:
                found.append(warning)
    if fields["day"] not in ("*", "?") and fields["day_of_week"] not in ("*", "?"):
        found.append(
            Warning_(
                code="day_or_weekday",
                message=(
                    f"day of month {fields['day']!r} and weekday {fields['day_of_week']!r} are both restricted: "
                    "cron runs on days that match either one, not only on days that match both"
                ),
            )
        )
    return found


def _uneven_step(name: str, part: str) -> Warning_ | None:
    """A ``*/n`` whose step does not divide the field's range, as a warning."""
    head, _, step_text = part.partition("/")
    if head not in ("*", "?") or not step_text.isdigit() or name == "day_of_week":
        return None
    step, size = int(step_text), _RANGE_SIZES[name]
    if size % step == 0:
        return None
    low = 1 if name in ("day", "month") else 0
    values = ", ".join(str(value) for value in range(low, low + size, step))
    label = _FIELD_NAMES.get(name, name)
    unit = _RESTART_UNITS[name]
    return Warning_(
        code="step",
        message=(
            f"{part!r} in the {label} field does not divide its range: it runs at {label} {values}, "
            f"starting again each {unit}, so not every {step} {label}s"
        ),
    )


def _next_walls(schedule: CronSchedule, after: datetime, count: int) -> list[tuple[datetime, datetime]]:
    """The next ``count`` slots as (wall time matched, UTC instant)."""
    found: list[tuple[datetime, datetime]] = []
    t = after
    while len(found) < count:
        pair = schedule.unbounded_wall_slot_after(t)
        if pair is None:
            break
        found.append(pair)
        t = pair[1]
    return found


def _dst_note(wall: datetime, utc: datetime, zone: tzinfo, name: str) -> Warning_ | None:
    """How an instant is resolved when its wall time falls in a DST gap or fold of ``zone``."""
    local = utc.astimezone(zone)
    shown = f"{wall:%Y-%m-%d %H:%M:%S}"
    if local.replace(tzinfo=None) != wall:
        return Warning_(
            code="dst_gap",
            message=(
                f"{shown} does not exist in {name} (the clocks jump forward): "
                f"it runs at {local:%H:%M:%S %Z}, the first valid instant after it ({format_utc(utc)})"
            ),
        )
    if _is_doubled(wall, zone):
        again = wall.replace(tzinfo=zone, fold=1)
        return Warning_(
            code="dst_fold",
            message=(
                f"{shown} happens twice in {name} (the clocks go back): it runs once, at the first "
                f"({local:%H:%M:%S %Z}, {format_utc(utc)}), not again at {again:%H:%M:%S %Z}"
            ),
        )
    return None


def dst_notes(schedule: CronSchedule, slots: Sequence[datetime]) -> list[Warning_ | None]:
    """For each of a cron job's ``slots``, how a DST gap or fold resolved it (None: neither)."""
    notes: list[Warning_ | None] = []
    for slot in slots:
        pair = schedule.unbounded_wall_slot_after(slot - _TICK)
        matched = pair is not None and pair[1] == slot
        notes.append(_dst_note(pair[0], slot, schedule.zone, schedule.timezone) if pair and matched else None)
    return notes


def _is_doubled(wall: datetime, zone: tzinfo) -> bool:
    first = wall.replace(tzinfo=zone, fold=0).utcoffset()
    second = wall.replace(tzinfo=zone, fold=1).utcoffset()
    return first is not None and second is not None and first > second
