"""What a crontab expression means, before any job uses it: ``jobctl cron explain``.

It reuses the parser that ``jobs create --cron`` uses (:func:`crontab_config`), so an
expression is accepted or refused here exactly as it would be there, with the same message.
On top of that it gives what a person checks a schedule by: the fields as jobctl reads them
(macros expanded, names lower-cased, the seconds field always present), the English meaning
(:mod:`jobctl.schedules.english`), the next instants in the zone and in UTC, and the lint of
:mod:`jobctl.schedules.cronlint` (the same warnings ``jobctl import crontab`` gives): an uneven
step, both day fields restricted, and the DST gaps and folds of the coming year the schedule
hits. A listed instant that a gap moved or a fold doubled carries a note (``dst_gap`` /
``dst_fold``; the runs of one fold share theirs, shown under the first of them listed); a DST
warning of the year is left out when a listed instant already shows it.

No store, no config, no pydantic: it must start as fast as ``jobs list``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from jobctl.errors import ValidationFailed
from jobctl.schedules.cron import CronSchedule, crontab_config
from jobctl.schedules.cronfields import SECONDS_FIRST_ORDER, CronSpec, crontab_spec
from jobctl.schedules.cronlint import (
    Finding,
    GapRun,
    WallTimes,
    dst_findings,
    fold_finding,
    gap_finding,
    gap_run,
    lint_fields,
    normalized_fields,
    transition_between,
    wall_times,
)
from jobctl.schedules.cronsearch import build_search
from jobctl.schedules.english import describe_expression
from jobctl.schedules.zones import UnknownZone, as_utc, format_utc, load_zone

MAX_COUNT = 100
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, kw_only=True)
class Instant:
    """One upcoming run: the instant in UTC and on the zone's clock, and how DST moved it."""

    utc: datetime
    local: datetime
    note: Finding | None = None


@dataclass(frozen=True, kw_only=True)
class Explanation:
    """Everything ``cron explain`` shows about one expression."""

    expression: str
    fields: dict[str, str]
    description: str
    timezone: str
    next: list[Instant]
    warnings: list[Finding]

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
    spec = crontab_spec(text)
    search = build_search(spec)
    assert search is not None  # crontab_config refused it otherwise
    schedule = CronSchedule(search, zone, timezone=timezone)
    walls = _next_walls(schedule, as_utc(after), count)
    notes_of = first_only([_dst_note(spec, wall, utc, zone, timezone) for wall, utc in walls])
    instants = [
        Instant(utc=utc, local=utc.astimezone(zone), note=note) for (_, utc), note in zip(walls, notes_of, strict=True)
    ]
    notes = [instant.note for instant in instants if instant.note is not None]
    shown = {(note.code, note.on) for note in notes}
    year = [found for found in dst_findings(spec, timezone, after=after) if (found.code, found.on) not in shown]
    warnings = [*lint_fields(fields), *notes, *year]
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


def _dst_note(spec: CronSpec, wall: datetime, utc: datetime, zone: tzinfo, name: str) -> Finding | None:
    """How an instant is resolved when its wall time falls in a DST gap or fold of ``zone``.

    In a gap, ``wall`` is the first wall time the spec names there; the note names the others
    too, since they all run as this one instant (:func:`jobctl.schedules.cronlint.gap_run`).
    In a fold, the note names every repeated time the spec names there, each of which runs
    once: it is the same note for each of those instants, shown under the first one listed
    (:func:`first_only`).
    """
    local = utc.astimezone(zone)
    if local.replace(tzinfo=None) != wall:
        end = local.replace(tzinfo=None)
        run = gap_run(spec, _gap_start(utc, zone), end)
        if run is None:  # cannot happen (wall lies in the gap), but a note must never fail
            run = GapRun(named=(wall,), last=wall, count=1, end=end, end_too=False)
        return gap_finding(
            run, name, clocks="the clocks jump forward", runs_at=f"{local:%H:%M:%S %Z}", utc=format_utc(utc)
        )
    if _is_doubled(wall, zone):
        return _fold_note(spec, wall, zone, name)
    return None


def _fold_note(spec: CronSpec, wall: datetime, zone: tzinfo, name: str) -> Finding:
    """The ``dst_fold`` note of the fold around the doubled wall time ``wall``: its repeated
    times the spec names, where each runs (the first occurrence) and where it does not."""
    first_utc = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second_utc = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    change = transition_between(first_utc, second_utc, zone)
    moment = change.at.replace(tzinfo=None)
    times = wall_times(spec, moment + change.after, moment + change.before)
    if times is None:  # cannot happen (wall lies in the fold), but a note must never fail
        times = WallTimes(named=(wall,), last=wall, count=1)
    runs = [(times.named[0] - change.before).replace(tzinfo=UTC), (times.last - change.before).replace(tzinfo=UTC)]
    before, after = (moment.astimezone(zone) for moment in (runs[0], runs[0] + change.before - change.after))
    if times.count == 1:
        first, again = f"{before:%H:%M:%S %Z}, {format_utc(runs[0])}", f"at {after:%H:%M:%S %Z}"
    else:
        first, again = f"in {before:%Z}, {format_utc(runs[0])} to {format_utc(runs[1])}", f"in {after:%Z}"
    return fold_finding(times, name, clocks="the clocks go back", first=first, again=again)


def first_only(notes: Sequence[Finding | None]) -> list[Finding | None]:
    """``notes`` with each note that an earlier instant already carries replaced by None.

    The instants of one fold share their note (it names all of them); it is shown once, under
    the first of them, and is one entry of ``--json``'s warnings.
    """
    seen: set[Finding] = set()
    kept: list[Finding | None] = []
    for note in notes:
        kept.append(None if note is None or note in seen else note)
        if note is not None:
            seen.add(note)
    return kept


def dst_notes(schedule: CronSchedule, slots: Sequence[datetime]) -> list[Finding | None]:
    """For each of a cron job's ``slots``, how a DST gap or fold resolved it (None: neither,
    or the same note as an earlier slot's)."""
    notes: list[Finding | None] = []
    for slot in slots:
        pair = schedule.unbounded_wall_slot_after(slot - _TICK)
        if pair is None or pair[1] != slot:
            notes.append(None)
            continue
        notes.append(_dst_note(schedule.search.spec, pair[0], slot, schedule.zone, schedule.timezone))
    return first_only(notes)


def _gap_start(jump: datetime, zone: tzinfo) -> datetime:
    """The naive wall time at which the clocks jumped forward at UTC ``jump`` (the gap's first)."""
    before = (jump - timedelta(seconds=1)).astimezone(zone).utcoffset()
    assert before is not None
    return (jump + before).replace(tzinfo=None)


def _is_doubled(wall: datetime, zone: tzinfo) -> bool:
    first = wall.replace(tzinfo=zone, fold=0).utcoffset()
    second = wall.replace(tzinfo=zone, fold=1).utcoffset()
    return first is not None and second is not None and first > second
