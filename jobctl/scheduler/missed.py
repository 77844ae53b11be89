"""Missed slots: the range a late claim leaves behind, and why it was missed.

When the scheduler claims a slot more than ``misfire_grace_seconds`` late, every slot from the
job's next slot on that is that late too was missed. They become one ``missed`` execution (first
slot, last slot, count; docs/missed-slots.md). A slot after them that is due but within the grace
at the claim is on time, as it would be for a leader that never stopped: it is claimed as usual,
whatever the policy. Without one, the misfire policy ``run_once`` runs the last missed slot: then
the run is its own row at that slot and the missed row holds the others. What became of the slot
that runs (it ran, waits, or was skipped because ``maxInstances`` runs were active) is known only
once the claim has decided it, so a ``run_once`` row's reason is finished then
(:meth:`MissedSlots.row`). Nothing here runs in a normal tick: only a claim that is already late
calls it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from jobctl.models import Job, LeaseTerm, MisfirePolicy
from jobctl.scheduler.overlap import SlotDecision
from jobctl.schedules import Schedule
from jobctl.schedules.spans import SlotSpan, span_through
from jobctl.store.writes import NewExecution

_TICK = timedelta(microseconds=1)

PROMPT_TAKEOVER = timedelta(seconds=1)
"""A takeover this soon after the previous lease ended left no leaderless time worth a window:
reasons show whole seconds, and "no daemon led until" the same second (or the next) read as a
gap that was not there (docs/missed-slots.md)."""


@dataclass(frozen=True, kw_only=True)
class LeaderGap:
    """The time before this instance's term when no daemon led: from ``since`` (when the previous
    term's lease expired or was released; None when unknown) until ``until`` (when this term began)."""

    since: datetime | None
    until: datetime
    previous: LeaseTerm | None = None
    """The term before, as ``lease_terms`` recorded it: who led and whether it gave the lease up.
    None when it was not recorded (a new store, a leader of an earlier release, a leader that died
    between its takeover and the record)."""


@dataclass(frozen=True, kw_only=True)
class MissedSlots:
    """What a late claim does with the slots behind it."""

    catch_up: datetime | None
    """The slot to claim now: the first slot within the grace when one is due (any policy), else
    with ``run_once`` the last missed one; None when nothing runs (``skip``)."""
    on_time: bool
    """``catch_up`` is within the grace, not a missed slot: the job moves on from it, not from now."""
    missed: NewExecution | None
    """The ``missed`` row for the slots later than the grace (less a ``run_once`` catch-up), or
    None when there are none. With ``run_once`` and a catch-up slot its reason holds only the
    cause: :meth:`row` adds what became of the catch-up."""
    policy: MisfirePolicy

    def row(self, catch_up: SlotDecision | None) -> NewExecution | None:
        """The ``missed`` row to write, its reason ending with what the claim decided for the
        catch-up slot (``catch_up``; None when there is no catch-up slot)."""
        if self.missed is None or self.catch_up is None or catch_up is None or self.policy == MisfirePolicy.SKIP:
            return self.missed
        fate = catch_up_fate(self.catch_up, catch_up, on_time=self.on_time)
        reason = f"{self.missed.error_message}; {fate} (misfire policy run_once)"
        return dataclasses.replace(self.missed, error_message=reason)


def plan_missed(
    job: Job,
    schedule: Schedule,
    *,
    now: datetime,
    gap: LeaderGap | None,
    misfire_grace: timedelta,
) -> MissedSlots:
    """The catch-up slot and the missed range of ``job``, whose next run time is more than
    ``misfire_grace`` before ``now``.

    Missed are the slots from ``next_slot`` on that are more than the grace late at ``now``
    (judged on the nominal slot: the jitter of a slot never claimed is never drawn). The slot
    after them, when it is due by ``now``, is within the grace: it is claimed as on time.
    """
    first = job.next_slot
    assert first is not None, "only a job with a next slot is claimed"
    policy = MisfirePolicy(job.misfire_policy)
    late = span_through(schedule, first, max(now - misfire_grace - _TICK, first))
    assert late is not None
    following = schedule.next_slot_after(late.last)
    on_time = following if following is not None and following <= now else None
    cause = missed_cause(first, gap=gap, misfire_grace=misfire_grace)
    if policy == MisfirePolicy.SKIP:
        missed = _row(job, late, now=now, reason=f"{cause}; misfire policy skip")
        return MissedSlots(catch_up=on_time, on_time=on_time is not None, missed=missed, policy=policy)
    if on_time is not None:  # it runs for the missed slots too: one run, as run_once promises
        return MissedSlots(catch_up=on_time, on_time=True, missed=_row(job, late, now=now, reason=cause), policy=policy)
    if late.before_last is None:
        return MissedSlots(catch_up=late.last, on_time=False, missed=None, policy=policy)
    others = SlotSpan(first=late.first, last=late.before_last, count=late.count - 1, before_last=None)
    missed = _row(job, others, now=now, reason=cause)
    return MissedSlots(catch_up=late.last, on_time=False, missed=missed, policy=policy)


def catch_up_fate(slot: datetime, decision: SlotDecision, *, on_time: bool = False) -> str:
    """What became of the catch-up slot, in the missed row's words: it ran, it waits, or it was
    skipped (a queued manual trigger or a run still going holds ``maxInstances``). ``on_time``:
    the slot is the one after the range, within the grace, not the range's last."""
    which = "its next slot" if on_time else "its last slot"
    if decision.action == "skip":
        return f"{which} {_moment(slot)} was skipped: {decision.reason}"
    if decision.action == "wait":
        return f"{which} {_moment(slot)} waits to run: {decision.reason}"
    return f"caught up with one run at {_moment(slot)}"


def missed_cause(first: datetime, *, gap: LeaderGap | None, misfire_grace: timedelta) -> str:
    """Why slots from ``first`` on were missed: no leader at the time, or a late scheduler."""
    if gap is not None and gap.until > first:
        if gap.since is None:
            return f"no daemon was leading before {_moment(gap.until)}"
        if first < gap.since:
            # The slot came while the previous leader still held its lease, and it claimed
            # nothing more: it had stopped (killed, hung or cut off from the store, its lease
            # running on until it expired; or stopping cleanly, before it gave the lease up).
            return _leader_stopped(gap.since, gap.until, gap.previous)
        window = f"no daemon was leading from {_moment(gap.since)} to {_moment(gap.until)}"
        return window if gap.previous is None else f"{window}: {_how_it_ended(gap.previous)}"
    return (
        f"claimed more than the misfire grace ({misfire_grace.total_seconds():g}s) late: "
        "every run slot was busy or the scheduler was held up"
    )


def _leader_stopped(since: datetime, until: datetime, previous: LeaseTerm | None) -> str:
    """A slot that came while the leader before still held the lease: it had stopped claiming."""
    if previous is None:  # not recorded: the store cannot tell a clean stop from a kill
        if until - since < PROMPT_TAKEOVER:
            # A standby took the lease as it ended: there was no leaderless window to name.
            return (
                f"the leading daemon stopped before this slot (its lease ended at {_moment(since)}, "
                "when the next daemon took over)"
            )
        return (
            f"the leading daemon stopped before this slot; its lease ended at {_moment(since)} "
            f"and no daemon led until {_moment(until)}"
        )
    after = (
        ", when the next daemon took over"
        if until - since < PROMPT_TAKEOVER
        else f" and no daemon led until {_moment(until)}"
    )
    who = f"the leading daemon on {previous.hostname} (pid {previous.pid})"
    if previous.released_at is not None:
        return f"{who} was stopping at this slot; it gave its lease up at {_moment(since)}{after}"
    return f"{who} stopped before this slot ({_unheard(previous)}); its lease ran out at {_moment(since)}{after}"


def _how_it_ended(previous: LeaseTerm) -> str:
    """How the term before a leaderless window ended, in a missed range's reason."""
    who = f"the daemon on {previous.hostname} (pid {previous.pid}) that led before"
    if previous.released_at is not None:
        return f"{who} was stopped cleanly"
    return f"{who} stopped renewing its lease ({_unheard(previous)})"


def _unheard(previous: LeaseTerm) -> str:
    """What a leader whose lease ran out may have met, with when it was last heard from."""
    heard = f"last heard from at {_moment(previous.last_heartbeat)}: " if previous.last_heartbeat else ""
    return f"{heard}killed, crashed, hung or cut off from the store"


def _row(job: Job, span: SlotSpan, *, now: datetime, reason: str) -> NewExecution:
    return NewExecution.missed_range(job, first=span.first, last=span.last, count=span.count, now=now, reason=reason)


def _moment(value: datetime) -> str:
    """A UTC instant in reasons: second precision, ``Z``."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
