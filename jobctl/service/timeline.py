"""A job's timeline over a window, and the verdict on its most recent slot (``jobctl jobs why``).

The answer to "why didn't my job run?" in one read: the job's executions (consecutive ones of
the same status grouped, so a month of a minutely job is a few lines, not 43,200), its missed
ranges, the changes the audit log holds, the end of its schedule, its next slot, and a verdict
in words on the most recent slot that was due. Where retention removed the job's history
(:mod:`jobctl.service.pruned_history`), the timeline marks the span and a slot in it with no
record left is "unknown", not "not run". Texts are built here, in the job's zone, so the CLI
prints the same words in both modes.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from jobctl.errors import ValidationFailed
from jobctl.models import AuditEntry, ExecutionStatus, Job, JobType, RetentionPolicy, TriggeredBy
from jobctl.schedules import Schedule, parse_schedule
from jobctl.schedules.spans import SlotSpan, last_slot_at_or_before, span_through
from jobctl.schedules.timing import first_run
from jobctl.service import audit
from jobctl.service.pruned_history import PrunedSpan, pruned_span
from jobctl.service.windows import Window
from jobctl.store import Store
from jobctl.store.history import RunRow
from jobctl.store.writes import why_skipped
from jobctl.times import localized, span
from jobctl.wire.history import EventKind, JobTimeline, TimelineEvent, Verdict, event
from jobctl.wire.responses import timestamp
from jobctl.wire.values import change_text, quoted

MISSED = ExecutionStatus.MISSED.value
SKIPPED = ExecutionStatus.SKIPPED.value
_FAILURES = frozenset({ExecutionStatus.FAILED.value, ExecutionStatus.TIMEOUT.value, ExecutionStatus.CANCELLED.value})
"""Outcomes whose error message the timeline quotes ("cancelled by ops", "exit code 3")."""


@dataclass(frozen=True)
class Times:
    """Instants as the timeline's texts show them: in ``zone``, the date only when it is not
    the window's last day."""

    zone: ZoneInfo
    day: Any

    def short(self, moment: datetime) -> str:
        local = moment.astimezone(self.zone)
        return f"{local:%H:%M:%S}" if local.date() == self.day else f"{local:%Y-%m-%d %H:%M:%S}"

    def precise(self, moment: datetime) -> str:
        local = moment.astimezone(self.zone)
        text = f"{local:%H:%M:%S}.{local.microsecond // 1000:03d}"
        return text if local.date() == self.day else f"{local:%Y-%m-%d} {text}"

    def localized(self, text: str) -> str:
        """``text`` with the UTC instants that reasons hold (``2026-12-04T01:58:00Z``) in this zone."""
        return localized(text, self.short)


OVERDUE_AFTER = timedelta(seconds=1)
"""A next slot whose run time is this far past is marked overdue: a leader claims a slot a moment
before it is due, so one just past is being claimed, not left waiting (docs/why.md)."""
_TICK = timedelta(microseconds=1)


def job_timeline(
    store: Store, job: Job, window: Window, *, now: datetime, default_timezone: str, retention: RetentionPolicy
) -> JobTimeline:
    """The timeline of ``job`` over ``window`` (see the module docstring); ``retention`` is the
    ``[history]`` in force, which says what history may be gone."""
    zone_name = timeline_zone(job, default_timezone)
    times = Times(ZoneInfo(zone_name), window.until.astimezone(ZoneInfo(zone_name)).date())
    schedule = _schedule(job, default_timezone)
    first = _first_slot(schedule, job)
    every_change = store.audit.of_target(audit.JOB, job.id, until=max(window.until, now))
    changes = [entry for entry in every_change if entry.at <= window.until]
    active = job.is_enabled and not job.is_paused
    due = _due_slot(_schedules_in_force(job, every_change, default_timezone), min(window.until, now))
    waiting = _waiting(job, schedule, due.slot if due is not None else None) if active else None
    if waiting is not None:  # the job still holds an earlier slot: that one is what the verdict is about
        due = _Due(slot=waiting.first, changed_at=None)
    slot = None if due is None else due.slot
    pruned = pruned_span(
        store, job.id, retention, first_slot=first or job.created_at, now=now,
        looking_from=window.since if slot is None else min(window.since, slot),
    )  # fmt: skip
    runs = store.history.runs_between(job.id, window.since, window.until)  # in time order already
    others: list[RunRow | AuditEntry | _PrunedMark] = [
        *store.history.missed_overlapping(job.id, window.since, window.until)
    ]
    others += [entry for entry in changes if entry.at >= window.since]
    if pruned is not None and window.since < pruned.until and pruned.since <= window.until:
        others.append(_PrunedMark(max(window.since, pruned.since), pruned))
    others.sort(key=_moment_of)
    events = list(_events(heapq.merge(others, runs, key=_moment_of), times))
    end = _schedule_end(schedule, job, now)
    if end is not None and window.since <= end <= window.until:
        events.append(event(_ts(end), "end", f"the schedule ended at {times.short(end)}: no more runs"))
    leading = store.cluster.has_live_leader(now) if active and job.next_slot is not None else None
    return {
        "jobId": job.id,
        "jobName": job.name,
        "since": _ts(window.since),
        "until": _ts(window.until),
        "timezone": zone_name,
        "events": events,
        "nextSlot": timestamp(job.next_slot) if active else None,
        "nextSlotOverdue": _overdue(job, now, leading) if leading is not None else None,
        "verdict": _verdict(store, job, due, waiting, every_change, pruned, leading, times),
    }


# -- events --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PrunedMark:
    """Where the span retention removed begins in the window."""

    at: datetime
    span: PrunedSpan


def _moment_of(item: RunRow | AuditEntry | _PrunedMark) -> datetime:
    return item.moment if isinstance(item, RunRow) else item.at


def _events(items: Iterable[RunRow | AuditEntry | _PrunedMark], times: Times) -> Iterable[TimelineEvent]:
    """Audit entries and executions in time order (a change before a run at the same instant);
    consecutive executions of one status (and, for skips, one reason) become one
    ``runs``/``skipped`` event."""
    group: list[RunRow] = []
    for item in items:
        if isinstance(item, AuditEntry):
            yield from _flush(group, times)
            group = []
            yield _change(item, times)
        elif isinstance(item, _PrunedMark):
            yield from _flush(group, times)
            group = []
            yield _pruned(item, times)
        elif item.status == MISSED:
            yield from _flush(group, times)
            group = []
            yield _missed(item, times)
        else:
            if group and _group_key(group[-1]) != _group_key(item):
                yield from _flush(group, times)
                group = []
            group.append(item)
    yield from _flush(group, times)


def _group_key(row: RunRow) -> tuple[str, str]:
    reason = (row.error_message or "").split(":")[0] if row.status == SKIPPED else ""
    return row.status, reason


def _flush(group: list[RunRow], times: Times) -> Iterable[TimelineEvent]:
    if len(group) == 1:
        yield _single(group[0], times)
    elif group:
        yield _grouped(group, times)


def _single(row: RunRow, times: Times) -> TimelineEvent:
    lateness = _lateness(row)
    if row.status == SKIPPED:
        text = f"slot {times.short(row.moment)} skipped: {_skip_reason(row, times)}"
        return event(_ts(row.moment), "skipped", text, status=row.status, execution_id=row.id)
    what = _trigger(row)
    text = f"{what}: {_outcome(row, times)}"
    return event(_ts(row.moment), "run", text, status=row.status, execution_id=row.id, lateness=lateness)


def _grouped(group: list[RunRow], times: Times) -> TimelineEvent:
    first, last = group[0], group[-1]
    status = first.status
    span = f"{times.short(first.moment)} to {times.short(last.moment)}"
    lateness = [late for late in map(_lateness, group) if late is not None]
    worst = max(lateness) if lateness else None
    kind: EventKind = "skipped" if first.status == SKIPPED else "runs"
    if kind == "skipped":
        text = f"{len(group):,} slots skipped, {span}: {_skip_reason(last, times)}"
    else:
        text = f"{len(group):,} runs {status}, {span}"
        if worst is not None:
            text += f", at most {_seconds(worst)} late"
        if last.error_message and first.status != ExecutionStatus.SUCCESS.value:
            text += f" (last: {times.localized(_first_line(last.error_message))})"
    return event(_ts(first.moment), kind, text, status=status, count=len(group), until=_ts(last.moment), lateness=worst)


def _skip_reason(row: RunRow, times: Times) -> str:
    """Why a slot was skipped, for a text that says "skipped" itself: the stored reason of a
    slot the scheduler skipped begins with "skipped: " too (the API's ``errorMessage``)."""
    return times.localized(why_skipped(row.error_message)) if row.error_message else "no reason recorded"


def _missed(row: RunRow, times: Times) -> TimelineEvent:
    last = row.missed_until or row.moment
    count = row.missed_count or 1
    span = times.short(row.moment) if count == 1 else f"{times.short(row.moment)} to {times.short(last)}"
    text = f"{count:,} slot{'s' if count != 1 else ''} missed, {span}: {times.localized(row.error_message or '')}"
    return event(_ts(row.moment), "missed", text, status=row.status, execution_id=row.id, count=count, until=_ts(last))


def _pruned(mark: _PrunedMark, times: Times) -> TimelineEvent:
    span = mark.span
    text = f"runs before {times.short(span.until)} pruned by retention ({span.settings(mark.at)})"
    return event(_ts(mark.at), "pruned", text, count=0, until=_ts(span.until))


def _change(entry: AuditEntry, times: Times) -> TimelineEvent:
    verb = entry.action.split(".", 1)[-1]
    text = f"{verb} by {entry.actor}"
    if entry.reason:  # an auto-pause's holds its "last at" in UTC
        text += f" with reason {quoted(times.localized(entry.reason))}"
    changes = (entry.details or {}).get("changes") if entry.action == audit.JOB_UPDATED else None
    if isinstance(changes, dict) and changes:
        text += ": " + "; ".join(
            change_text(name, change) for name, change in changes.items() if isinstance(change, dict)
        )
    return event(_ts(entry.at), "change", text, actor=entry.actor, action=entry.action, reason=entry.reason)


def _overdue(job: Job, now: datetime, leading: bool) -> str | None:
    """How long the job's next slot is past, and why it waits; None when it is not past."""
    if job.next_slot is None or job.next_run_time is None or now - job.next_run_time < OVERDUE_AFTER:
        return None
    why = "the leading daemon has not claimed it yet" if leading else "no daemon is leading"
    return f"overdue by {span((now - job.next_slot).total_seconds())}: {why}"


# -- the verdict ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Due:
    """The slot a verdict is about; ``changed_at``: when the schedule it belongs to was replaced
    (None: the schedule in force now)."""

    slot: datetime
    changed_at: datetime | None


@dataclass(frozen=True)
class _InForce:
    """A schedule the job had, from ``since`` (its creation, or the change that set it) until
    ``until`` (the change that replaced it; None: in force now)."""

    schedule: Schedule | None
    config: Mapping[str, Any]
    since: datetime
    until: datetime | None


def _verdict(
    store: Store,
    job: Job,
    due: _Due | None,
    waiting: SlotSpan | None,
    changes: list[AuditEntry],
    pruned: PrunedSpan | None,
    leading: bool | None,
    times: Times,
) -> Verdict:
    """About ``due``, the last slot due by the window's end of the schedule in force then (None:
    none was due), or the job's next slot when it still holds an earlier one (``waiting``);
    ``changes``: the job's audit entries up to now, oldest first."""
    if due is None:
        return {"slot": None, "outcome": "none", "text": "no slot was due yet"}
    slot = due.slot
    rows = store.history.at_slot(job.id, slot)
    ran = [row for row in rows if row.status != MISSED and row.moment == slot]
    missed = [row for row in rows if row.status == MISSED]
    outcome, text = _slot_outcome(ran[-1], times) if ran else ("", "")
    if not ran and missed:
        outcome, text = "not_run", f"not run: {times.localized(missed[0].error_message or 'missed')}"
    if not outcome and waiting is not None:
        outcome, text = "due", _still_waiting(waiting, bool(leading), times)
    if not outcome:
        outcome, text = _unrecorded(job, slot, changes, pruned, times)
    if due.changed_at is not None:
        text += f" (a slot of the schedule before the change at {times.short(due.changed_at)})"
    return cast(Verdict, {"slot": _ts(slot), "outcome": outcome, "text": text})


def _schedules_in_force(job: Job, entries: list[AuditEntry], default_timezone: str) -> list[_InForce]:
    """The job's schedules, the one in force now first, then each it replaced, as far back as the
    audit log's updates tell (each ``job.updated`` entry that changed ``scheduleConfig`` or
    ``jobTypeId`` holds the values before it)."""
    kind, config, until = job.job_type_id, job.schedule_config, None
    found: list[_InForce] = []
    for entry in reversed(entries):
        fields = (entry.details or {}).get("changes") if entry.action == audit.JOB_UPDATED else None
        if not isinstance(fields, dict):
            continue
        old_config, old_kind = fields.get("scheduleConfig"), fields.get("jobTypeId")
        if not isinstance(old_config, dict) and not isinstance(old_kind, dict):
            continue
        found.append(_InForce(_parsed(job, kind, config, default_timezone), config, entry.at, until))
        until = entry.at
        if isinstance(old_kind, dict) and isinstance(old_kind.get("old"), int):
            kind = old_kind["old"]
        if isinstance(old_config, dict) and isinstance(old_config.get("old"), dict):
            config = old_config["old"]
    found.append(_InForce(_parsed(job, kind, config, default_timezone), config, job.created_at, until))
    return found


def _due_slot(schedules: list[_InForce], moment: datetime) -> _Due | None:
    """The last slot at or before ``moment`` of the schedule in force then: the newest schedule
    with a slot between its first one (from when it was set) and ``moment`` or its replacement."""
    for period in schedules:
        if period.schedule is None or period.since > moment:
            continue
        try:
            first = first_run(period.schedule, period.config, period.since).slot
        except ValidationFailed:
            continue
        end = moment if period.until is None else min(moment, period.until - _TICK)
        if first is None or first > end:
            continue
        slot = last_slot_at_or_before(period.schedule, end, not_before=first)
        if slot is not None:
            return _Due(slot=slot, changed_at=period.until)
    return None


def _waiting(job: Job, schedule: Schedule | None, due: datetime | None) -> SlotSpan | None:
    """The slots from the job's next slot through ``due`` when it still holds one at or before it:
    nobody claimed them yet (no daemon leads, or the leader is held up)."""
    if schedule is None or due is None or job.next_slot is None or job.next_slot > due:
        return None
    return span_through(schedule, job.next_slot, due)


def _still_waiting(waiting: SlotSpan, leading: bool, times: Times) -> str:
    """The verdict on the job's next slot, past and not claimed, with the later slots due since."""
    later = waiting.count - 1
    if not later:
        return "due, not started yet" if leading else "not run yet: no daemon is leading, so the slot still waits"
    slots = f"the slot and {later:,} later one{'s' if later != 1 else ''} (to {times.short(waiting.last)})"
    if leading:
        return f"due, not started yet: {slots} wait to be claimed"
    return f"not run yet: no daemon is leading, so {slots} still wait"


def _slot_outcome(row: RunRow, times: Times) -> tuple[str, str]:
    if row.status == SKIPPED:
        return "not_run", f"not run: {times.localized(row.error_message or 'skipped')}"
    if row.status == ExecutionStatus.PENDING.value:
        return "due", "waiting to start" + (" (a retry)" if row.triggered_by == TriggeredBy.RETRY.value else "")
    if row.status == ExecutionStatus.RUNNING.value:
        return "running", f"running since {times.precise(row.started_at or row.moment)}"
    return "ran", _outcome(row, times)


def _unrecorded(
    job: Job, slot: datetime, changes: list[AuditEntry], pruned: PrunedSpan | None, times: Times
) -> tuple[str, str]:
    """No execution and no missed range holds the slot, and the job does not hold it as its next
    one: the job was paused or disabled then, or retention removed what was recorded of it.

    What the job was at the slot comes from the audit log. Only where the log does not reach back
    that far (``[history] audit_keep_days`` removed the job's creation and every pause or disable
    before the slot) is it inferred, from the first later change of it, else from the job as it is
    now: taking the job's state now whenever no pause was in force said "not run: the job was
    paused" of a slot from before a pause, once retention had removed the slot's run."""
    state = _state_at(changes, slot)
    if state.stopped is not None:
        entry, what = state.stopped
        reason = f" with reason {quoted(times.localized(entry.reason))}" if entry.reason else ""
        return "not_run", f"not run: {what} by {entry.actor} at {times.short(entry.at)}{reason}"
    if pruned is not None and pruned.holds(slot):
        return "pruned", f"unknown: history pruned by retention ({pruned.settings(slot)})"
    later = [entry for entry in changes if entry.at > slot]
    if not state.knows_enabled and not _was(later, "isEnabled", job.is_enabled):
        return "not_run", "not run: the job was disabled"
    if not state.knows_paused and _was(later, "isPaused", job.is_paused):
        return "not_run", "not run: the job was paused"
    return "not_run", "not run: no record of this slot"


@dataclass(frozen=True)
class _StateAt:
    """What the audit log tells of a job at a slot: the entry of the pause or disable in force
    then and its words (None: neither was), and whether the log reaches back far enough to know
    each: it holds the job's creation, or a later entry that set the field before the slot."""

    stopped: tuple[AuditEntry, str] | None
    knows_paused: bool
    knows_enabled: bool


def _state_at(changes: list[AuditEntry], slot: datetime) -> _StateAt:
    """The pause or disable in force at ``slot`` (the entry that made it), if any. A job is
    paused or resumed by ``jobs pause``/``resume`` (``job.paused``/``job.resumed``) but also by an
    update or an apply that sets ``isPaused`` (``job.updated``); a pause ended by the latter was
    taken for still in force, and the slots after it read "not run: paused"."""
    paused: AuditEntry | None = None
    disabled: AuditEntry | None = None
    knows_paused = knows_enabled = False
    for entry in changes:
        if entry.at > slot:
            break
        if entry.action == audit.JOB_CREATED:
            settings = (entry.details or {}).get("settings") or {}
            paused = entry if settings.get("isPaused") else None
            disabled = entry if settings.get("isEnabled") is False else None
            knows_paused = knows_enabled = True
        elif entry.action in (audit.JOB_PAUSED, audit.JOB_RESUMED):
            paused = entry if entry.action == audit.JOB_PAUSED else None
            knows_paused = True
        elif entry.action in (audit.JOB_DISABLED, audit.JOB_ENABLED):
            disabled = entry if entry.action == audit.JOB_DISABLED else None
            knows_enabled = True
        elif entry.action == audit.JOB_UPDATED:  # an update or an apply that set isPaused / isEnabled
            fields = (entry.details or {}).get("changes") or {}
            if isinstance(fields.get("isPaused"), dict):
                paused = entry if fields["isPaused"].get("new") else None
                knows_paused = True
            if isinstance(fields.get("isEnabled"), dict):
                disabled = entry if fields["isEnabled"].get("new") is False else None
                knows_enabled = True
    stopped = None
    if disabled is not None:
        stopped = disabled, "created disabled" if disabled.action == audit.JOB_CREATED else "disabled"
    elif paused is not None:
        stopped = paused, "created paused" if paused.action == audit.JOB_CREATED else "paused"
    return _StateAt(stopped, knows_paused, knows_enabled)


_SETS: dict[str, dict[str, bool]] = {
    "isPaused": {audit.JOB_PAUSED: True, audit.JOB_RESUMED: False},
    "isEnabled": {audit.JOB_ENABLED: True, audit.JOB_DISABLED: False},
}
"""The status actions that set each field, and to what."""


def _was(later: list[AuditEntry], field: str, now: bool) -> bool:
    """``field`` (``isPaused``, ``isEnabled``) before the first of the ``later`` entries that
    changed it (a status change is recorded only when it changes the job, so a ``job.paused``
    says the job was not paused before it), else as it is ``now``."""
    for entry in later:
        if entry.action in _SETS[field]:
            return not _SETS[field][entry.action]
        change = ((entry.details or {}).get("changes") or {}).get(field) if entry.action == audit.JOB_UPDATED else None
        if isinstance(change, dict) and isinstance(change.get("old"), bool):
            return bool(change["old"])
    return now


# -- pieces --------------------------------------------------------------------------------


def _outcome(row: RunRow, times: Times) -> str:
    started = row.started_at or row.moment
    if row.status == ExecutionStatus.RUNNING.value:
        return f"running since {times.precise(started)}"
    if row.status == ExecutionStatus.PENDING.value:
        return "waiting to start"
    text = f"ran at {times.precise(started)}, {row.status}"
    if row.status in _FAILURES and row.error_message:
        text += f": {times.localized(_first_line(row.error_message))}"
    return text


def _trigger(row: RunRow) -> str:
    if row.triggered_by == TriggeredBy.MANUAL.value:
        return f"manual run by {row.triggered_by_user_id or 'someone'}"
    if row.triggered_by == TriggeredBy.RETRY.value:
        return f"retry (attempt {row.attempt})"
    late = _lateness(row)
    return "scheduled run" + (f" ({_seconds(late)} late)" if late is not None else "")


def _lateness(row: RunRow) -> float | None:
    return row.lateness if row.scheduled else None


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if abs(value) < 1 else f"{value:.1f} s"


def _schedule(job: Job, default_timezone: str) -> Schedule | None:
    return _parsed(job, job.job_type_id, job.schedule_config, default_timezone)


def _parsed(job: Job, kind: int, config: Mapping[str, Any], default_timezone: str) -> Schedule | None:
    """A schedule of ``job`` (its own or one it had), anchored as the scheduler anchors it; None
    when it does not parse (a config the audit log holds masked, or of an older release)."""
    try:
        return parse_schedule(kind, config, default_timezone=default_timezone, anchor=job.created_at)
    except ValidationFailed:
        return None


def _first_slot(schedule: Schedule | None, job: Job) -> datetime | None:
    """The job's first slot after it was created (an interval without a start date first runs one
    period after its creation, so the creation instant itself is no slot)."""
    if schedule is None:
        return None
    try:
        return first_run(schedule, job.schedule_config, job.created_at).slot
    except ValidationFailed:
        return None


def _schedule_end(schedule: Schedule | None, job: Job, now: datetime) -> datetime | None:
    """When the schedule ran out, if it has (its end date, or a one-shot's slot)."""
    if schedule is None or schedule.first_slot_at_or_after(now) is not None:
        return None
    end = getattr(schedule, "end", None) or getattr(schedule, "run_date", None)
    if isinstance(end, datetime):
        return end
    first = _first_slot(schedule, job)
    return None if first is None else last_slot_at_or_before(schedule, now, not_before=first)


def timeline_zone(job: Job, default_timezone: str) -> str:
    """The zone a job's timeline is shown in, and its window's times without an offset read in:
    a cron job's own, else the default."""
    zone = job.schedule_config.get("timezone") if job.job_type_id == JobType.CRON else None
    return str(zone or default_timezone)


def _ts(moment: datetime) -> str:
    return timestamp(moment) or ""


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
