"""Which notifications an event makes, written in the transaction that records the event.

The scheduler calls :func:`outcome_effects` with a batch of finished attempts inside the
transaction that finishes them, and :func:`event_deliveries` for the other events (a start, a
skip, an abandoned run); the deliveries are rows that the leader's sender delivers later, off
the scheduling path. Auto-pause lives here too: it is decided by the same failure streak, in
the same transaction (docs/notifications.md, docs/auto-pause.md).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo

from jobctl.models import Execution, ExecutionStatus, Job
from jobctl.notifier_config import ATTEMPT_EVENTS, NotifyRule, NotifySettings, rule_from_dict
from jobctl.notify.payload import event_payload, tail_bytes
from jobctl.service import audit
from jobctl.store import Store
from jobctl.store.deliveries import NO_SUCH_NOTIFIER, NewDelivery
from jobctl.store.executions import FinishedRun
from jobctl.store.job_health import FinalOutcome, JobStreak

log = logging.getLogger(__name__)

AUTO_PAUSER = "jobctl"
"""``pausedBy`` of a job paused after too many failures."""

_EVENT_OF_STATUS = {
    ExecutionStatus.SUCCESS: "success",
    ExecutionStatus.FAILED: "failure",
    ExecutionStatus.TIMEOUT: "timeout",
}
_FAILED = (ExecutionStatus.FAILED, ExecutionStatus.TIMEOUT)


@cache
def host_name() -> str:
    return socket.gethostname()


@dataclass(frozen=True, kw_only=True)
class FinishedAttempt:
    """An attempt as just recorded (``claimed`` as it started, ``run`` how it ended); ``final``
    when no retry follows it.

    The finished :attr:`execution` record is built only when a delivery needs it: a burst of
    outcomes of jobs without rules never copies an execution (docs/spawn-interpreter-lock.md).
    """

    claimed: Execution
    run: FinishedRun
    final: bool

    @property
    def job_id(self) -> str:
        return self.claimed.job_id

    @property
    def status(self) -> str:
        return self.run.status

    @functools.cached_property
    def execution(self) -> Execution:
        """The execution as ``run`` finished it (what its notifications describe)."""
        run = self.run
        return dataclasses.replace(
            self.claimed,
            status=ExecutionStatus(run.status),
            started_at=run.started_at,
            completed_at=run.completed_at,
            duration_seconds=run.duration_seconds,
            result=run.result,
            error_message=run.error_message,
        )


def rules_of(job: Job, settings: NotifySettings) -> tuple[NotifyRule, ...]:
    """The job's own rules, else ``[notify] default`` (an empty list of its own means none)."""
    if job.notify is None:
        return settings.default_rules
    return tuple(rule_from_dict(raw) for raw in job.notify)


def wanted(rules: Sequence[NotifyRule], event: str, *, final: bool = True) -> list[str]:
    """The notifiers whose rule takes ``event`` (an attempt's event: only a final one, unless ``eachAttempt``)."""
    chosen = [
        rule.notifier
        for rule in rules
        if event in rule.on and (final or rule.each_attempt or event not in ATTEMPT_EVENTS | {"output"})
    ]
    return list(dict.fromkeys(chosen))


def event_deliveries(
    store: Store,
    settings: NotifySettings,
    job: Job,
    event: str,
    *,
    execution: Execution | None,
    now: datetime,
    final: bool = True,
    subject: str | None = None,
    message: str | None = None,
    has_output: bool | None = None,
) -> list[NewDelivery]:
    """The deliveries ``event`` makes for ``job`` (none when no rule takes it); not written yet
    (:func:`write_deliveries` writes them).

    A rule naming a notifier the config lacks (removed while the job still names it) makes a
    delivery written ``failed`` at once with :data:`NO_SUCH_NOTIFIER`, not none: the event is not
    lost without a trace (docs/notifications.md). ``subject`` keys the event for exactly-once
    delivery; default: the execution's id. ``has_output`` False spares the read of an output
    tail that is known to be empty, as does an event that no notifier in the config takes.
    """
    notifiers = wanted(rules_of(job, settings), event, final=final)
    if not notifiers:
        return []
    known = settings.names
    tail = None
    sendable = any(name in known for name in notifiers)
    if sendable and execution is not None and settings.output_tail_bytes and has_output is not False:
        text = store.executions.output_tail(execution.id, settings.output_tail_bytes)
        tail = tail_bytes(text, settings.output_tail_bytes) or None
    payload = event_payload(
        event, occurred_at=now, host=host_name(), job=job, execution=execution, output_tail=tail, message=message
    )
    key = subject or (execution.id if execution is not None else f"{job.id}:{now.isoformat()}")
    return [
        NewDelivery(
            event=event,
            subject=key,
            job_id=job.id,
            job_name=job.name,
            execution_id=execution.id if execution is not None else None,
            notifier=name,
            payload=payload,
            created_at=now,
            failed_because=None if name in known else NO_SUCH_NOTIFIER,
        )
        for name in notifiers
    ]


def write_deliveries(store: Store, deliveries: Sequence[NewDelivery]) -> int:
    """Write ``deliveries`` (those already written for the same event are left out); how many were
    new. Each new one that is ``failed`` from the start (its notifier is not in the config) is
    logged as a failed delivery is: a WARNING, as the sender logs a send that failed for good."""
    written = store.deliveries.insert_new(deliveries)
    for new in written:
        if new.failed_because is not None:
            log_given_up(new.id, new.event, new.job_name, new.notifier, new.failed_because)
    return len(written)


def jobs_naming_missing_notifiers(store: Store, settings: NotifySettings) -> list[tuple[str, list[str]]]:
    """Each job whose own rules name a notifier that ``settings`` lacks, with those notifiers, by
    name (``[notify] default`` cannot: the config is refused if it does)."""
    known = settings.names
    found = []
    for name, rules in store.job_health.own_rules():
        named = [rule.get("notifier") for rule in rules if isinstance(rule, dict)]
        missing = [str(notifier) for notifier in dict.fromkeys(named) if notifier not in known]
        if missing:
            found.append((name, missing))
    return found


def log_given_up(delivery_id: str, event: str, job_name: str | None, notifier: str, error: str) -> None:
    """One WARNING for a delivery failed for good without an attempt (its notifier is gone), in
    the words of the sender's line for a failed attempt."""
    log.warning(
        "notification %s (%s of job %s) to %s failed: %s; giving up", delivery_id, event, job_name, notifier, error
    )


def outcome_effects(
    store: Store, settings: NotifySettings, attempts: Sequence[FinishedAttempt], *, now: datetime | None = None
) -> None:
    """Deliveries, failure streaks and auto-pauses for attempts just finished; call inside their transaction.

    Each job's streak columns are read (one narrow query); the whole job only for jobs whose
    outcome can make a delivery (they have rules) or pause them (``pauseAfterFailures``). A
    burst of runs of jobs without either costs no job record per outcome.
    """
    if not attempts:
        return
    now = now or datetime.now(UTC)
    streaks_now = store.job_health.streaks([a.job_id for a in attempts])
    whole = [job_id for job_id, streak in streaks_now.items() if _may_act(streak, settings)]
    jobs = store.job_health.get_many(whole) if whole else {}
    failures = {job_id: streak.consecutive_failures for job_id, streak in streaks_now.items()}
    with_output = _with_output(store, settings, jobs, attempts)
    deliveries: list[NewDelivery] = []
    streaks: dict[str, FinalOutcome] = {}
    for attempt in attempts:
        job_id = attempt.job_id
        job = jobs.get(job_id)
        if job is None:  # no rules, no auto-pause (or the job is gone): only its streak moves
            if job_id in failures and attempt.final and attempt.status in _EVENT_OF_STATUS:
                failures[job_id] = failures[job_id] + 1 if attempt.status in _FAILED else 0
                streaks[job_id] = FinalOutcome(
                    job_id=job_id, consecutive_failures=failures[job_id], last_final_status=attempt.status
                )
            continue
        has_output = attempt.run.execution_id in with_output
        deliveries += _attempt_deliveries(store, settings, job, attempt, now, has_output=has_output)
        if attempt.final and attempt.status in _EVENT_OF_STATUS:
            job = _after_final(store, settings, job, attempt.execution, now, deliveries, has_output=has_output)
            jobs[job.id] = job
            streaks[job.id] = FinalOutcome(
                job_id=job.id, consecutive_failures=job.consecutive_failures,
                last_final_status=str(attempt.execution.status),
            )  # fmt: skip
    store.job_health.record_final_outcomes(list(streaks.values()))
    write_deliveries(store, deliveries)


def _may_act(streak: JobStreak, settings: NotifySettings) -> bool:
    """Whether an outcome of this job can make a delivery or pause it (then its whole record is read)."""
    has_rules = bool(settings.default_rules) if streak.notify is None else bool(streak.notify)
    return has_rules or bool(streak.pause_after_failures)


def _with_output(
    store: Store, settings: NotifySettings, jobs: dict[str, Job], attempts: Sequence[FinishedAttempt]
) -> set[str]:
    """The attempts that printed anything, in one query, and only if some job has rules at all:
    a burst of outcomes then costs one read instead of one per delivery. (Rules naming only
    notifiers the config lacks count: their ``output`` events are failed deliveries.)"""
    if not any(rules_of(job, settings) for job in jobs.values()):
        return set()
    return store.executions.with_output([a.run.execution_id for a in attempts if a.job_id in jobs])


def _attempt_deliveries(
    store: Store, settings: NotifySettings, job: Job, attempt: FinishedAttempt, now: datetime, *, has_output: bool
) -> list[NewDelivery]:
    execution = attempt.execution
    event = _EVENT_OF_STATUS.get(ExecutionStatus(execution.status))
    found: list[NewDelivery] = []
    if execution.status == ExecutionStatus.CANCELLED:
        event = "cancelled"
    if event is not None:
        found += event_deliveries(
            store, settings, job, event, execution=execution, now=now, final=attempt.final, has_output=has_output
        )
    rules = rules_of(job, settings)
    if has_output and wanted(rules, "output", final=attempt.final):
        found += event_deliveries(
            store, settings, job, "output", execution=execution, now=now, final=attempt.final, has_output=True
        )
    return found


def _after_final(
    store: Store,
    settings: NotifySettings,
    job: Job,
    execution: Execution,
    now: datetime,
    out: list[NewDelivery],
    *,
    has_output: bool,
) -> Job:
    """The job's streak after a final outcome; a ``recovery`` and an auto-pause when they follow."""
    failed = execution.status in _FAILED
    if not failed:
        if job.consecutive_failures > 0 or job.last_final_status in _FAILED:
            out += event_deliveries(
                store, settings, job, "recovery", execution=execution, now=now, has_output=has_output
            )
        return dataclasses.replace(job, consecutive_failures=0, last_final_status=execution.status)
    streak = job.consecutive_failures + 1
    job = dataclasses.replace(job, consecutive_failures=streak, last_final_status=execution.status)
    limit = job.pause_after_failures
    if limit and streak >= limit and job.is_enabled and not job.is_paused:
        when = (execution.completed_at or now).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        reason = f"paused after {streak} consecutive failures, last at {when}"
        if store.job_health.pause(job.id, reason=reason, by=AUTO_PAUSER, now=now):
            audit.record_job(store, AUTO_PAUSER, audit.JOB_PAUSED, job, reason=reason, at=now)
            job = dataclasses.replace(job, is_paused=True, paused_reason=reason, paused_by=AUTO_PAUSER, paused_at=now)
            out += event_deliveries(
                store, settings, job, "paused", execution=execution, now=now, subject=f"{execution.id}",
                message=reason, has_output=has_output,
            )  # fmt: skip
    return job


def scheduled_effects(
    store: Store,
    settings: NotifySettings,
    claimed: Sequence[tuple[Job, Execution]],
    *,
    now: datetime,
    default_timezone: str,
) -> None:
    """``start``, ``late``, ``skipped`` and ``missed`` deliveries of executions just claimed or
    started (a missed range is one event); call inside the transaction that writes them. Costs
    nothing for jobs without rules for them. ``default_timezone`` is the zone of jobs that name
    none (``[scheduler] timezone``): a ``late`` or ``missed`` message names its slot in the job's zone."""
    deliveries: list[NewDelivery] = []
    for job, execution in claimed:
        if execution.status == ExecutionStatus.SKIPPED:
            deliveries += event_deliveries(store, settings, job, "skipped", execution=execution, now=now)
            continue
        if execution.status == ExecutionStatus.MISSED:
            message = missed_message(job, execution, default_timezone)
            deliveries += event_deliveries(
                store, settings, job, "missed", execution=execution, now=now, message=message
            )
            continue
        first = execution.attempt == 1
        deliveries += event_deliveries(store, settings, job, "start", execution=execution, now=now, final=first)
        late = _lateness(job, execution, now)
        if late is not None and execution.scheduled_for is not None:
            slot = slot_text(job, default_timezone, execution.scheduled_for)
            message = f"{job.name} started {late:.0f}s after its slot, {slot} (grace {job.start_grace_seconds}s)"
            deliveries += event_deliveries(store, settings, job, "late", execution=execution, now=now, message=message)
    write_deliveries(store, deliveries)


def missed_message(job: Job, execution: Execution, default_timezone: str) -> str:
    """``backup missed 3 slots, 2026-12-07 09:54:00 to 2026-12-07 09:56:00 America/New_York: WHY``:
    the range itself, then its stored reason (whose UTC instants a mail shows in UTC)."""
    count = execution.missed_count or 1
    first = execution.scheduled_for or execution.created_at
    slots = slot_text(job, default_timezone, first, execution.missed_until if count > 1 else None)
    return f"{job.name} missed {count:,} slot{'s' if count != 1 else ''}, {slots}: {execution.error_message}"


def slot_text(job: Job, default_timezone: str, first: datetime, last: datetime | None = None) -> str:
    """A slot (or the range from ``first`` to ``last``) as an event's message names it: in the job's
    zone, the zone in the job's ``jobs why`` (a cron job's own, else ``default_timezone``), to the
    second and with the zone named, as a mail names its UTC times (``2026-12-07 14:50:14 UTC``).
    The people reading it think of the job's slots in its zone ("the 02:00 backup")."""
    from jobctl.service.timeline import timeline_zone

    name = timeline_zone(job, default_timezone)
    zone = ZoneInfo(name)
    shown = f"{first.astimezone(zone):%Y-%m-%d %H:%M:%S}"
    if last is not None and last != first:
        shown += f" to {last.astimezone(zone):%Y-%m-%d %H:%M:%S}"
    return f"{shown} {name}"


def _lateness(job: Job, execution: Execution, now: datetime) -> float | None:
    """Seconds a scheduled run starts after its slot, when that is past the job's grace."""
    if job.start_grace_seconds is None or execution.scheduled_for is None or execution.attempt != 1:
        return None
    late = ((execution.started_at or now) - execution.scheduled_for).total_seconds()
    return late if late > job.start_grace_seconds else None


def abandoned_effects(store: Store, settings: NotifySettings, execution: Execution, *, now: datetime) -> None:
    """The ``abandoned`` delivery of a run whose daemon died; call in the transaction that finishes it."""
    job = store.jobs.get(execution.job_id)
    if job is not None:
        write_deliveries(store, event_deliveries(store, settings, job, "abandoned", execution=execution, now=now))


def execution_event(
    store: Store, settings: NotifySettings | None, execution: Execution, event: str, *, now: datetime
) -> None:
    """Write the deliveries of ``event`` about ``execution`` (a cancel recorded outside a run's
    outcome); call inside the transaction that records it."""
    job = store.jobs.get(execution.job_id)
    if settings is not None and job is not None:
        write_deliveries(store, event_deliveries(store, settings, job, event, execution=execution, now=now))
