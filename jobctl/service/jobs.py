"""The operations of the scheduler API, once, for the REST API and the local CLI.

:class:`Service` implements :class:`~jobctl.service.contract.JobService` (where each method's
result and errors are stated) over the store: every public method mirrors one endpoint, takes
plain values, returns the endpoint's JSON shape and checks the caller's role.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from jobctl.errors import Conflict, NotFound, ValidationFailed
from jobctl.models import (
    INT32_MAX,
    KILL_GRACE_SECONDS,
    NAME_MAX,
    Caller,
    ExecutionStatus,
    HandlerType,
    Job,
    JobSettings,
    LeadingDaemon,
    RetentionPolicy,
    RunningDaemon,
    TaskFunction,
)
from jobctl.notifier_config import NotifySettings
from jobctl.service import audit
from jobctl.service.access import authorize
from jobctl.service.contract import JobService
from jobctl.service.job_secrets import all_shown_to, pages_shown_to, shown_to
from jobctl.service.settings import ServiceSettings
from jobctl.store import JobFilter, Store
from jobctl.store.executions import ExecutionFilter
from jobctl.store.writes import JobChanges, NewExecution
from jobctl.wire import ids, responses
from jobctl.wire.history import AuditList, JobTimeline
from jobctl.wire.ids import is_uuid
from jobctl.wire.labels import parse_filter as parse_label_filter
from jobctl.wire.responses import (
    ApplyPlan,
    ExecutionList,
    ExecutionLog,
    ExecutionOut,
    JobDetail,
    JobList,
    JobOut,
    JobTypeOut,
    NextRunTimes,
    NotificationList,
    NotifierList,
    NotifierTestResult,
    Overview,
    SchedulerStatus,
    TaskFunctionList,
    TriggerResult,
)

RECENT_EXECUTIONS = 10
MAX_NEXT_RUNS = 100
EXECUTION_STATUSES = frozenset(status.value for status in ExecutionStatus)


def utcnow() -> datetime:
    return datetime.now(UTC)


def check_page(page: int, per_page: int) -> tuple[int, int]:
    """LIMIT and OFFSET for a page. :raises ValidationFailed: outside 1 <= per_page <= 100,
    1 <= page <= 2**31 - 1 (the API's bounds: the CLI on the store gets the same answer)."""
    errors = []
    if not 1 <= page <= INT32_MAX:
        errors.append({"loc": ["query", "page"], "msg": f"must be between 1 and {INT32_MAX}", "type": "value_error"})
    if not 1 <= per_page <= 100:
        errors.append({"loc": ["query", "per_page"], "msg": "must be between 1 and 100", "type": "value_error"})
    if errors:
        raise ValidationFailed(errors)
    return per_page, (page - 1) * per_page


class Service:
    """The scheduler's operations for one caller over one store."""

    def __init__(
        self,
        store: Store,
        caller: Caller,
        *,
        default_timezone: str,
        notify: NotifySettings | None = None,
        notify_env: Mapping[str, str] | None = None,
        kill_grace_seconds: float = KILL_GRACE_SECONDS,
        concurrency_groups: Collection[str] = (),
        retention: RetentionPolicy | None = None,
    ) -> None:
        self.store = store
        self.caller = caller
        self.default_timezone = default_timezone
        self.notify = notify or NotifySettings()
        """The config's notifiers: rules may name only these (docs/notifications.md)."""
        self.notify_env = dict(notify_env or {})
        """The environment command notifiers start from (the daemon's clean run environment)."""
        self.kill_grace_seconds = kill_grace_seconds
        """How long a stopped run may take to end (``[daemon] kill_grace_seconds``): a cancel waits for it."""
        self.concurrency_groups = frozenset(concurrency_groups)
        """Groups a job may name: those of this process's config (a remote server checks its own)."""
        self.retention = retention or RetentionPolicy()
        """``[history]`` of this process's config (a remote server's own): what a job's timeline
        takes as pruned (docs/why.md)."""
        self._task_functions_seen: dict[int, TaskFunction | None] = {}

    @classmethod
    def configured(cls, store: Store, caller: Caller, settings: ServiceSettings) -> Service:
        """A service for ``caller`` under ``settings`` (its process's config, as reloaded)."""
        return cls(
            store, caller, default_timezone=settings.default_timezone, notify=settings.notify,
            notify_env=settings.notify_env, kill_grace_seconds=settings.kill_grace_seconds,
            concurrency_groups=settings.concurrency_groups, retention=settings.retention,
        )  # fmt: skip

    # -- catalog --------------------------------------------------------------------------

    def list_task_functions(
        self, *, is_active: bool | None = None, page: int = 1, per_page: int = 50
    ) -> TaskFunctionList:
        """``GET /task-functions``."""
        limit, offset = check_page(page, per_page)
        items, total = self.store.catalog.list_task_functions(is_active=is_active, limit=limit, offset=offset)
        return responses.task_function_list(items, total)

    def resolve_task_function(self, name: str) -> int:
        """The id of the task function called ``name``. :raises NotFound:"""
        task_function = self.store.catalog.get_task_function_by_name(name)
        if task_function is None:
            raise NotFound("task function", name)
        return task_function.id

    def list_job_types(self) -> list[JobTypeOut]:
        """``GET /job-types``."""
        return [responses.job_type(jt) for jt in self.store.catalog.list_job_types()]

    # -- jobs -----------------------------------------------------------------------------

    def list_jobs(
        self,
        *,
        name: str | None = None,
        is_enabled: bool | None = None,
        task_function_id: int | None = None,
        labels: Sequence[str] = (),
        page: int = 1,
        per_page: int = 20,
        id_prefix: str | None = None,
        after: str | None = None,
    ) -> JobList:
        """``GET /jobs``, oldest first, by page or by cursor (:mod:`jobctl.service.job_listing`)."""
        from jobctl.service.job_listing import list_jobs

        limit, offset = check_page(page, per_page)
        filters = _job_filter(name, is_enabled, task_function_id, labels, id_prefix=_id_prefix(id_prefix))
        listed = list_jobs(self.store, filters, limit=limit, offset=offset, after=after)
        return {**listed, "jobs": all_shown_to(self.caller, listed["jobs"])}

    def stream_jobs(
        self,
        *,
        name: str | None = None,
        is_enabled: bool | None = None,
        task_function_id: int | None = None,
        labels: Sequence[str] = (),
        after: str | None = None,
    ) -> Iterator[list[JobOut]]:
        """``GET /jobs/stream``: every job after the cursor, by pages of the store's keyset walk."""
        from jobctl.service.job_listing import stream_jobs

        filters = _job_filter(name, is_enabled, task_function_id, labels)
        return pages_shown_to(self.caller, stream_jobs(self.store, filters, after=after))

    def get_job(self, job_id: str) -> JobDetail:
        """``GET /jobs/{id}`` with task function, job type and the latest executions."""
        return self._detail(self._job(job_id))

    def resolve_job(self, ref: str) -> str:
        """The id of the job whose id, unique name or unique id prefix is ``ref`` (in that order).

        :raises NotFound: :raises AmbiguousId: for a prefix of several ids (``jobctl.wire.ids``).
        """
        job = self.store.jobs.get(ref) if is_uuid(ref) else None
        job = job or self.store.jobs.get_by_name(ref)
        if job is not None:
            return job.id
        prefix = ids.as_prefix(ref)
        if prefix is not None:
            found = self.store.jobs.list(JobFilter(id_prefix=prefix), limit=ids.LISTED + 1, offset=0)
            match = ids.unique_match("job", ref, [(j.id, j.name) for j in found])
            if match is not None:
                return match
        raise NotFound("job", ref)

    def resolve_execution(self, ref: str) -> str:
        """The id of the execution whose id or unique id prefix is ``ref``.

        :raises NotFound: (``ExecutionGone`` for a whole id a forced delete ended and deleted)
        :raises AmbiguousId: for a prefix of several ids.
        """
        execution = self.store.executions.get(ref) if is_uuid(ref) else None
        if execution is not None:
            return execution.id
        prefix = ids.as_prefix(ref)
        if prefix is not None:
            found, _ = self.store.executions.list(
                job_id=None, status=None, id_prefix=prefix, limit=ids.LISTED + 1, offset=0
            )
            match = ids.unique_match("execution", ref, [(e.id, e.status) for e in found])
            if match is not None:
                return match
        from jobctl.service.deleted_runs import missing_execution

        raise missing_execution(self.store, ref)

    def create_job(self, body: Mapping[str, Any]) -> JobOut:
        """``POST /jobs``. Admin only."""
        from jobctl.service.job_input import new_job

        authorize(self.caller, "create_job")
        now = utcnow()
        new = new_job(
            self.store,
            body,
            caller=self.caller,
            default_timezone=self.default_timezone,
            now=now,
            task_function_of=self._task_function_for_create,
            notifiers=self.notify.names,
            concurrency_groups=self.concurrency_groups,
        )
        with self.store.transaction():
            job = self.store.jobs.insert_and_announce(new)
            details = {"settings": audit.settings_snapshot(job)}
            audit.record_job(self.store, self.caller, audit.JOB_CREATED, job, details=details, at=now)
        return shown_to(self.caller, responses.job(job))

    def update_job(self, job_id: str, body: Mapping[str, Any]) -> JobDetail:
        """``PUT /jobs/{id}``: only the fields sent change. Admin only.

        A body that changes nothing (``{}``, or every field as the job has it) writes nothing:
        not the job, so its ``updatedAt``/``updatedBy`` still say who last changed it, and no
        audit entry, as ``apply`` leaves a job that is already as declared (docs/updating-jobs.md).
        """
        from jobctl.service.job_input import job_changes

        authorize(self.caller, "update_job")
        job = self._job(job_id)
        now = utcnow()
        changes = job_changes(
            self.store, job, body, caller=self.caller, default_timezone=self.default_timezone, now=now,
            notifiers=self.notify.names,
            concurrency_groups=self.concurrency_groups,
        )  # fmt: skip
        fields = audit.field_changes(job, changes.settings, changes.changed)
        if not fields:
            return self._detail(job)
        with self.store.transaction():
            self.store.jobs.update(job.id, changes)
            self._end_waiting_runs_if_disabled(job, changes, now)
            self._note_pause(job, changes.settings.is_paused, None, now)
            self.store.cluster.bump_generation()
            audit.record_job(self.store, self.caller, audit.JOB_UPDATED, job, details={"changes": fields}, at=now)
        return self._detail(self._job(job.id))

    def set_job_status(self, job_id: str, body: Mapping[str, Any]) -> JobDetail:
        """``PUT /jobs/{id}/status``: enable, disable, pause or resume. Operator or admin."""
        from jobctl.service.job_input import status_changes

        authorize(self.caller, "set_job_status")
        job = self._job(job_id)
        now = utcnow()
        changes = status_changes(job, body, caller=self.caller, default_timezone=self.default_timezone, now=now)
        reason = body.get("reason") if isinstance(body.get("reason"), str) else None
        actions = _status_actions(job, changes.settings)
        if not actions and reason is None:  # already as asked: nothing to write (see update_job)
            return self._detail(job)
        with self.store.transaction():
            self.store.jobs.update(job.id, changes)
            self._end_waiting_runs_if_disabled(job, changes, now)
            self._note_pause(job, changes.settings.is_paused, reason, now)
            self.store.cluster.bump_generation()
            for action in actions:
                audit.record_job(self.store, self.caller, action, job, reason=reason, at=now)
        return self._detail(self._job(job.id))

    def _note_pause(self, job: Job, paused: bool, reason: str | None, now: datetime) -> None:
        """Who paused the job, when and why; a resume clears it (docs/auto-pause.md)."""
        if paused and (not job.is_paused or reason is not None):
            self.store.job_health.set_pause_note(job.id, reason=reason, by=self.caller.user_id, at=now)
        elif not paused and job.is_paused:
            self.store.job_health.set_pause_note(job.id, reason=None, by=None, at=None)

    def _end_waiting_runs_if_disabled(self, job: Job, changes: JobChanges, now: datetime) -> None:
        """A disabled job gets no runs at all: its waiting retries and not-yet-started manual
        runs end now as ``skipped``, saying why (docs/disabled-jobs.md). Pausing keeps them."""
        if not job.is_enabled or changes.settings.is_enabled:
            return
        disabled = f"job disabled by {self.caller.user_id}" if self.caller.user_id else "job disabled"
        self.store.executions.skip_waiting(
            job.id,
            now=now,
            retry_reason=f"{disabled} before the retry was due",
            other_reason=f"{disabled} before the run started",
        )

    def delete_job(self, job_id: str, *, force: bool = False) -> None:
        """``DELETE /jobs/{id}``, with the job's history. Admin only.

        A job with active runs is a conflict naming them, unless ``force``: then its waiting
        runs are skipped and its running ones stopped and recorded first (docs/deleting-jobs.md).
        Jobs of a system task function are protected.
        """
        from jobctl.service.deleted_runs import record_deleted_runs
        from jobctl.service.job_delete import STOP_MARGIN_SECONDS, active_runs_conflict, stop_runs_for_delete

        authorize(self.caller, "delete_job")
        job = self._job(job_id)
        task_function = self._task_function(job.task_function_id)
        if task_function.is_system:
            raise Conflict(
                f"job {job.name!r} uses the system task function {task_function.name!r} and cannot be deleted"
            )
        ended: list[str] = []
        if force:
            ended = stop_runs_for_delete(
                self.store, job, self.caller.user_id, wait_seconds=self.kill_grace_seconds + STOP_MARGIN_SECONDS
            )
        with self.store.transaction():
            job = self._job(job.id, lock=True)
            active = self.store.executions.active_of_job(job.id)
            if active and not force:
                raise active_runs_conflict(job, active)
            record_deleted_runs(self.store, self.caller, job, ended)
            self.store.jobs.delete(job.id)
            self.store.cluster.bump_generation()
            details = {"force": True, "activeRuns": len(ended)} if force else None
            audit.record_job(self.store, self.caller, audit.JOB_DELETED, job, details=details)

    def get_next_runs(self, job_id: str, *, count: int = 5) -> NextRunTimes:
        """``GET /jobs/{id}/next``: the job's coming slots, computed as the scheduler would."""
        from jobctl.models import JobType
        from jobctl.schedules import parse_schedule
        from jobctl.schedules.timing import upcoming_slots

        if not 1 <= count <= MAX_NEXT_RUNS:
            raise ValidationFailed.field(["query", "count"], f"must be between 1 and {MAX_NEXT_RUNS}")
        job = self._job(job_id)
        config = job.schedule_config
        schedule = parse_schedule(
            job.job_type_id, config, default_timezone=self.default_timezone, anchor=job.created_at
        )
        slots = upcoming_slots(schedule, config, next_slot=job.next_slot, now=utcnow(), count=count)
        zone = config.get("timezone") if job.job_type_id in (JobType.CRON, JobType.DATE) else None
        return responses.next_run_times(job_id=job.id, timezone=zone or self.default_timezone, slots=slots)

    def apply_jobs(
        self,
        *,
        source: str,
        jobs: Sequence[Mapping[str, Any]],
        prune: bool = False,
        dry_run: bool = False,
        allow_empty: bool = False,
    ) -> ApplyPlan:
        """``POST /apply``: the jobs of a jobs file, all or nothing (:mod:`jobctl.service.apply`). Admin only."""
        from jobctl.service.apply import execute_apply, plan_apply
        from jobctl.wire.requests import ApplyRequest, parse_body

        authorize(self.caller, "apply_jobs")
        body = {"source": source, "jobs": list(jobs), "prune": prune, "dryRun": dry_run, "allowEmpty": allow_empty}
        request = parse_body(ApplyRequest, body)
        now = utcnow()
        plan = plan_apply(
            self.store, request.jobs, source=request.source, prune=request.prune, caller=self.caller,
            default_timezone=self.default_timezone, now=now, notifiers=self.notify.names,
            concurrency_groups=self.concurrency_groups, allow_empty=request.allowEmpty,
        )  # fmt: skip

        def after_update(job: Job, changes: JobChanges) -> None:
            self._end_waiting_runs_if_disabled(job, changes, now)
            self._note_pause(job, changes.settings.is_paused, None, now)

        if not request.dryRun:
            execute_apply(
                self.store, plan, caller=self.caller, source=request.source, now=now, after_update=after_update
            )
        return plan.summary()

    def trigger_job(self, job_id: str) -> TriggerResult:
        """``POST /jobs/{id}/trigger``: record a pending manual run for the daemon. Operator or admin.

        For a Celery task function the Celery task id is chosen here and stored on the pending
        execution, so the caller gets it at once (the executor sends the task under that id).

        :raises Conflict: when the job is disabled or already runs ``maxInstances`` times.
        """
        authorize(self.caller, "trigger_job")
        with self.store.transaction():
            job = self._job(job_id, lock=True)
            if not job.is_enabled:
                raise Conflict(f"job {job.name!r} is disabled; enable it before triggering")
            active = self.store.executions.count_active(job.id)
            if active >= job.max_instances:
                raise Conflict(
                    f"job {job.name!r} already has {active} active run(s) (maxInstances {job.max_instances})"
                )
            celery_task_id = self._new_celery_task_id(job)
            new = NewExecution.manual(job, now=utcnow(), user_id=self.caller.user_id, celery_task_id=celery_task_id)
            self.store.executions.insert(new)
            self.store.cluster.bump_generation()
            audit.record_job(
                self.store, self.caller, audit.JOB_TRIGGERED, job, details={"executionId": new.id}, at=new.created_at
            )
        return responses.trigger_result(job_id=job.id, execution_id=new.id, celery_task_id=celery_task_id)

    def _new_celery_task_id(self, job: Job) -> str | None:
        """A fresh Celery task id when the job's task function is a Celery task, else None."""
        task_function = self.store.catalog.get_task_function(job.task_function_id)
        if task_function is None or task_function.handler_type != HandlerType.CELERY_TASK:
            return None
        return str(uuid.uuid4())

    def get_job_timeline(self, job_id: str, *, since: str | None = None, until: str | None = None) -> JobTimeline:
        """``GET /jobs/{id}/timeline``: the job's runs, skips, missed ranges and changes in the
        window, its next slot and the verdict on its most recent slot (docs/why.md)."""
        from zoneinfo import ZoneInfo

        from jobctl.service.timeline import job_timeline, timeline_zone
        from jobctl.service.windows import parse_window

        job = self._job(job_id)
        now = utcnow()
        # A time without an offset is read in the job's zone, the one the timeline's texts show:
        # a time copied from them names the same instant (read as UTC it was hours off).
        zone = ZoneInfo(timeline_zone(job, self.default_timezone))
        window = parse_window(since, until, now=now, zone=zone)
        return job_timeline(
            self.store, job, window, now=now, default_timezone=self.default_timezone, retention=self.retention
        )

    # -- audit ----------------------------------------------------------------------------

    def list_audit(
        self, *, job_id: str | None = None, actor: str | None = None, since: str | None = None, page: int = 1,
        per_page: int = 50,
    ) -> AuditList:  # fmt: skip
        """``GET /audit``: one page of the audit log, newest first. Admin only."""
        from jobctl.service.windows import parse_instant
        from jobctl.store.audit import AuditFilter
        from jobctl.wire.history import audit_entry

        authorize(self.caller, "list_audit")
        limit, offset = check_page(page, per_page)
        job_id = None if job_id is None else ids.query_uuid(job_id, ["query", "job_id"])
        start = None if since is None else parse_instant(since, loc=["query", "since"], now=utcnow())
        filters = AuditFilter(
            target_type=None if job_id is None else audit.JOB, target_id=job_id, actor=actor, since=start
        )
        entries, total = self.store.audit.list(filters, limit=limit, offset=offset)
        return {"entries": [audit_entry(entry) for entry in entries], "total": total}

    # -- executions -----------------------------------------------------------------------

    def list_executions(
        self, *, job_id: str | None = None, status: str | None = None, page: int = 1, per_page: int = 50,
        id_prefix: str | None = None, after: str | None = None, before: str | None = None,
        since: datetime | None = None, until: datetime | None = None,
    ) -> ExecutionList:  # fmt: skip
        """``GET /executions``, newest first, by page or by cursor (:mod:`jobctl.service.execution_listing`)."""
        from jobctl.service.execution_listing import list_executions

        limit, offset = check_page(page, per_page)
        filters = _execution_filter(job_id, status, since, until, id_prefix=id_prefix)
        return list_executions(self.store, filters, limit=limit, offset=offset, after=after, before=before)

    def stream_executions(
        self, *, job_id: str | None = None, status: str | None = None, after: str | None = None,
        since: datetime | None = None, until: datetime | None = None,
    ) -> Iterator[list[ExecutionOut]]:  # fmt: skip
        """``GET /executions/stream``: every execution after the cursor, newest first, by pages
        of the store's keyset walk (:func:`jobctl.service.execution_listing.stream_executions`)."""
        from jobctl.service.execution_listing import stream_executions

        filters = _execution_filter(job_id, status, since, until)
        return stream_executions(self.store, filters, after=after)

    def list_job_executions(
        self, job_id: str, *, status: str | None = None, page: int = 1, per_page: int = 50,
        after: str | None = None, before: str | None = None, since: datetime | None = None,
        until: datetime | None = None,
    ) -> ExecutionList:  # fmt: skip
        """``GET /jobs/{id}/executions``."""
        job = self._job(job_id)
        return self.list_executions(job_id=job.id, status=status, page=page, per_page=per_page, after=after,
                                    before=before, since=since, until=until)  # fmt: skip

    def get_execution(self, execution_id: str) -> ExecutionOut:
        """``GET /executions/{id}``."""
        execution = self.store.executions.get(execution_id) if is_uuid(execution_id) else None
        if execution is None:
            from jobctl.service.deleted_runs import missing_execution

            raise missing_execution(self.store, execution_id)
        return responses.execution(execution)

    def cancel_execution(self, execution_id: str) -> ExecutionOut:
        """``POST /executions/{id}/cancel``: a pending run ends ``cancelled`` at once; a running
        one is stopped by its daemon and recorded ``cancelled``. Operator or admin."""
        from jobctl.service.execution_cancel import cancel_execution

        authorize(self.caller, "cancel_execution")
        if not is_uuid(execution_id):
            raise NotFound("execution", execution_id)
        who = self.caller.user_id or "an unnamed caller"
        return responses.execution(
            cancel_execution(
                self.store, execution_id, who, kill_grace_seconds=self.kill_grace_seconds, notify=self.notify
            )
        )

    def get_execution_log(self, execution_id: str, *, offset: int = 0) -> ExecutionLog:
        """``GET /executions/{id}/log``: output from ``offset``; ``complete`` once the run ended and all was read."""
        from jobctl.service.execution_log import read_execution_log

        return read_execution_log(self.store, execution_id, offset=offset).body

    # -- notifications --------------------------------------------------------------------

    def list_notifications(
        self, *, job_id: str | None = None, status: str | None = None, page: int = 1, per_page: int = 50
    ) -> NotificationList:
        """``GET /notifications``, newest first."""
        from jobctl.service.notification_ops import list_notifications

        limit, offset = check_page(page, per_page)
        job_id = None if job_id is None else ids.query_uuid(job_id, ["query", "job_id"])
        return list_notifications(self.store, job_id=job_id, status=status, limit=limit, offset=offset)

    def list_notifiers(self) -> NotifierList:
        """``GET /notifiers``: the config's notifiers, secrets masked."""
        from jobctl.service.notification_ops import list_notifiers

        return list_notifiers(self.notify)

    def test_notifier(self, name: str) -> NotifierTestResult:
        """``POST /notifiers/{name}/test``: send a test event now. Admin only."""
        from jobctl.service.notification_ops import test_notifier

        authorize(self.caller, "test_notifier")
        return test_notifier(self.notify, name, base_env=self.notify_env)

    # -- status ---------------------------------------------------------------------------

    def get_status(self) -> SchedulerStatus:
        """``GET /status``: leader, instances and job counts."""
        from jobctl.service.status import scheduler_status

        return scheduler_status(self.store, utcnow())

    def leading_daemon(self) -> LeadingDaemon | None:
        """The daemon that leads, as ``isRunning`` and ``leaderHeartbeatOverdue`` of the status see it: one query."""
        from jobctl.service.status import leading_daemon

        return leading_daemon(self.store, utcnow())

    def running_daemon(self, instance_id: str) -> RunningDaemon | None:
        """The instance a run is recorded on, as the store last heard from it: two queries."""
        from jobctl.service.status import running_daemon

        return running_daemon(self.store, instance_id)

    def get_overview(self) -> Overview:
        """``GET /overview``: status, runs going on, next slots, latest failures and missed ranges."""
        from jobctl.service.overview import overview

        return overview(self.store, utcnow())

    # -- helpers --------------------------------------------------------------------------

    def _job(self, job_id: str, *, lock: bool = False) -> Job:
        job = self.store.jobs.get(job_id, lock=lock) if is_uuid(job_id) else None
        if job is None:
            raise NotFound("job", job_id)
        return job

    def _task_function_for_create(self, task_function_id: int) -> TaskFunction | None:
        """Task functions looked up once per service object: a bulk create in one command or
        request reads each once (the check was never atomic with the insert anyway)."""
        if task_function_id not in self._task_functions_seen:
            self._task_functions_seen[task_function_id] = self.store.catalog.get_task_function(task_function_id)
        return self._task_functions_seen[task_function_id]

    def _task_function(self, task_function_id: int) -> TaskFunction:
        task_function = self.store.catalog.get_task_function(task_function_id)
        if task_function is None:
            raise NotFound("task function", task_function_id)
        return task_function

    def _detail(self, job: Job) -> JobDetail:
        job_type = self.store.catalog.get_job_type(job.job_type_id)
        assert job_type is not None, "jobs.job_type_id is a foreign key"
        recent, _ = self.store.executions.list(job_id=job.id, status=None, limit=RECENT_EXECUTIONS, offset=0)
        detail = responses.job_detail(job, self._task_function(job.task_function_id), job_type, recent)
        return shown_to(self.caller, detail)


def _implements_the_contract(service: Service) -> JobService:
    """Never called: mypy fails here if :class:`Service` drifts from the contract."""
    return service


def _status_actions(before: Job, after: JobSettings) -> list[str]:
    """The audit actions of a status change: enabled/disabled and paused/resumed, as they changed."""
    actions = []
    if before.is_enabled != after.is_enabled:
        actions.append(audit.JOB_ENABLED if after.is_enabled else audit.JOB_DISABLED)
    if before.is_paused != after.is_paused:
        actions.append(audit.JOB_PAUSED if after.is_paused else audit.JOB_RESUMED)
    return actions


def _execution_filter(
    job_id: str | None, status: str | None, since: datetime | None, until: datetime | None, *,
    id_prefix: str | None = None,
) -> ExecutionFilter:  # fmt: skip
    """The filters of the execution listings, checked. :raises ValidationFailed: at the query's loc."""
    from jobctl.service.execution_listing import query_time

    if status is not None and status not in EXECUTION_STATUSES:
        raise ValidationFailed.field(["query", "status"], f"must be one of {', '.join(sorted(EXECUTION_STATUSES))}")
    return ExecutionFilter(
        job_id=None if job_id is None else ids.query_uuid(job_id, ["query", "job_id"]), status=status,
        id_prefix=_id_prefix(id_prefix), since=query_time(since, "since"), until=query_time(until, "until"),
    )  # fmt: skip


def _job_filter(
    name: str | None, is_enabled: bool | None, task_function_id: int | None, labels: Sequence[str], *,
    id_prefix: str | None = None,
) -> JobFilter:  # fmt: skip
    """The filters of the jobs listings, checked as the API checks them, so that the CLI on the
    store refuses what it refuses. :raises ValidationFailed: at the query's loc."""
    if name is not None and len(name) > NAME_MAX:
        raise ValidationFailed.field(["query", "name"], f"must be at most {NAME_MAX} characters (a job name's most)")
    if task_function_id is not None and not 1 <= task_function_id <= INT32_MAX:
        raise ValidationFailed.field(["query", "task_function_id"], f"must be between 1 and {INT32_MAX}")
    pairs = tuple(parse_label_filter(text, loc=["query", "label"]) for text in labels)
    return JobFilter(
        name=name, is_enabled=is_enabled, task_function_id=task_function_id, id_prefix=id_prefix, labels=pairs
    )


def _id_prefix(text: str | None) -> str | None:
    """The ``id_prefix`` filter in lower case. :raises ValidationFailed: unless hex digits and dashes."""
    if text is None:
        return None
    if not ids.is_id_prefix_filter(text):
        raise ValidationFailed.field(["query", "id_prefix"], "must be the start of an id: hex digits and dashes")
    return text.lower()


__all__ = ["Service", "check_page", "is_uuid", "utcnow"]
