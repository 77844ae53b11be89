"""The scheduler's operations as a type: what the CLI may ask of a service, local or remote.

:class:`JobService` is implemented twice, by :class:`jobctl.service.Service` over the store and
by :class:`jobctl.client.RemoteService` over the daemon's REST API; mypy (strict) checks both
against it, and ``tests/remote/test_remote_contract.py`` checks that they answer alike. Every
method mirrors one endpoint and returns that endpoint's JSON, a shape of
:mod:`jobctl.wire.responses`.

Errors are those of :mod:`jobctl.errors`, the same from both implementations:
``NotFound`` (404 / exit 3), ``Conflict`` (409 / exit 4), ``ValidationFailed`` (422 / exit 2,
with each field's ``loc``), ``PermissionDenied`` (403 / exit 5) when the caller's role is too
low; the remote client also raises ``NotAuthenticated`` and ``ApiUnreachable`` (exit 5).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from jobctl.models import LeadingDaemon, RunningDaemon
from jobctl.wire.history import AuditList, JobTimeline
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


class JobService(Protocol):
    """The operations of the scheduler API, for one caller."""

    # -- catalog --------------------------------------------------------------------------

    def list_task_functions(
        self, *, is_active: bool | None = None, page: int = 1, per_page: int = 50
    ) -> TaskFunctionList:
        """``GET /task-functions``: one page of the registered task functions.

        :raises ValidationFailed: for a page outside ``page >= 1``, ``1 <= per_page <= 100``.
        """
        ...

    def resolve_task_function(self, name: str) -> int:
        """The id of the task function called ``name`` (active or not). :raises NotFound:"""
        ...

    def list_job_types(self) -> list[JobTypeOut]:
        """``GET /job-types``: interval, cron, date."""
        ...

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
        """``GET /jobs``: one page of jobs, oldest first, and the counts for the same filters.

        ``after`` (a ``nextCursor`` of an earlier answer) gives the page after that place
        instead of page ``page``; the counts are then null (docs/keyset-paging.md).

        ``name`` matches part of the name, case-insensitively; each of ``labels`` (``key=value``)
        must be on the job (all of them); ``id_prefix`` the start of the id (hex digits and
        dashes, any case).

        :raises ValidationFailed: for a bad page, a label filter that is not ``key=value``
            (at ``["query", "label"]``), or a bad cursor (at ``["query", "after"]``).
        """
        ...

    def stream_jobs(
        self,
        *,
        name: str | None = None,
        is_enabled: bool | None = None,
        task_function_id: int | None = None,
        labels: Sequence[str] = (),
        after: str | None = None,
    ) -> Iterator[list[JobOut]]:
        """``GET /jobs/stream``: every job the filters match after ``after`` (a ``nextCursor``;
        from the first job without one), in the order of :meth:`list_jobs`, a page at a time
        (of the implementation's size). One walk instead of a request per page of 100: what
        ``jobs list --json --all`` reads after its first page (docs/keyset-paging.md).

        :raises ValidationFailed: as :meth:`list_jobs`, before anything is read.
        """
        ...

    def get_job(self, job_id: str) -> JobDetail:
        """``GET /jobs/{id}``: the job with its task function, job type and latest executions.

        :raises NotFound: for an unknown or malformed id.
        """
        ...

    def resolve_job(self, ref: str) -> str:
        """The id of the job whose id, unique name or unique id prefix is ``ref``, in that order
        (prefix rules in :mod:`jobctl.wire.ids`).

        :raises NotFound:
        :raises AmbiguousId: for a prefix of several jobs' ids (exit 2).
        """
        ...

    def create_job(self, body: Mapping[str, Any]) -> JobOut:
        """``POST /jobs`` with an API body; the new job. Admin only.

        :raises ValidationFailed: for a bad body (each field at its ``loc``).
        :raises Conflict: when the name is taken.
        :raises PermissionDenied:
        """
        ...

    def update_job(self, job_id: str, body: Mapping[str, Any]) -> JobDetail:
        """``PUT /jobs/{id}``: only the fields sent change; the job after the change. Admin only.

        :raises NotFound, ValidationFailed, Conflict, PermissionDenied:
        """
        ...

    def set_job_status(self, job_id: str, body: Mapping[str, Any]) -> JobDetail:
        """``PUT /jobs/{id}/status`` with ``isEnabled``, ``isPaused`` or both. Operator or admin.

        Disabling ends the job's waiting runs (retries, triggers not started) as ``skipped``.

        :raises NotFound, ValidationFailed, PermissionDenied:
        :raises Conflict: when enabling a job whose schedule has no run left.
        """
        ...

    def delete_job(self, job_id: str, *, force: bool = False) -> None:
        """``DELETE /jobs/{id}`` with its executions. Admin only.

        With ``force``, the job's waiting runs are skipped and its running ones stopped (TERM,
        grace, KILL, by the daemon running them) and recorded before the job goes.

        :raises NotFound, PermissionDenied:
        :raises Conflict: for a job of a system task function, and without ``force`` for a job
            with pending or running executions (the message names them).
        """
        ...

    def trigger_job(self, job_id: str) -> TriggerResult:
        """``POST /jobs/{id}/trigger``: a pending manual run that the daemon starts. Operator or admin.

        :raises NotFound, PermissionDenied:
        :raises Conflict: when the job is disabled or already runs ``maxInstances`` times.
        """
        ...

    def get_next_runs(self, job_id: str, *, count: int = 5) -> NextRunTimes:
        """``GET /jobs/{id}/next?count=N``: the job's next ``count`` slots, before jitter.

        Honours start and end dates; a paused or disabled job gets the slots it would have once
        resumed or enabled. ``timezone`` is a cron job's zone, else the scheduler's default.

        :raises NotFound:
        :raises ValidationFailed: at ``["query", "count"]`` outside 1..100.
        """
        ...

    def apply_jobs(
        self,
        *,
        source: str,
        jobs: Sequence[Mapping[str, Any]],
        prune: bool = False,
        dry_run: bool = False,
        allow_empty: bool = False,
    ) -> ApplyPlan:
        """``POST /apply``: make the jobs named in ``jobs`` (``[[jobs]]`` tables of a jobs file, its
        keys: :mod:`jobctl.wire.job_tables`) be as they say, in one transaction. Admin only.

        Jobs are known by name; each table declares the whole job (keys left out: defaults).
        Jobs set are marked as coming from ``source``; with ``prune`` the jobs of ``source`` that
        ``jobs`` does not name are deleted. An unchanged job is not written. With ``dry_run``
        nothing is written. Returns the plan (done, or that would be done).

        :raises ValidationFailed: with every error of every job, each at
            ``["body", "jobs", INDEX, KEY]`` and naming its job; nothing is written.
        :raises Conflict: when a job to prune has pending or running runs (in a dry run too);
            nothing is written.
        :raises PermissionDenied:
        """
        ...

    def get_job_timeline(self, job_id: str, *, since: str | None = None, until: str | None = None) -> JobTimeline:
        """``GET /jobs/{id}/timeline``: runs (grouped when consecutive ones share a status), skipped
        slots, missed ranges and changes between ``since`` and ``until`` (default: the last 24 h),
        the next slot, and the verdict on the most recent slot that was due (docs/why.md).

        ``since``/``until`` are ISO 8601 instants, durations before now (``24h``, ``7d``) or ``now``.

        :raises NotFound:
        :raises ValidationFailed: at ``["query", "since"]``/``["query", "until"]`` for a bad time,
            a reversed window (at ``until``) or one longer than 366 days (at ``since``).
        """
        ...

    # -- audit ----------------------------------------------------------------------------

    def list_audit(
        self, *, job_id: str | None = None, actor: str | None = None, since: str | None = None, page: int = 1,
        per_page: int = 50,
    ) -> AuditList:  # fmt: skip
        """``GET /audit``: the audit log, newest first; ``job_id`` keeps the entries about that job
        (deleted ones too), ``actor`` one actor's, ``since`` those from then on. Admin only.

        :raises PermissionDenied:
        :raises ValidationFailed: for a bad page, job id or time.
        """
        ...

    # -- executions -----------------------------------------------------------------------

    def list_executions(
        self, *, job_id: str | None = None, status: str | None = None, page: int = 1, per_page: int = 50,
        id_prefix: str | None = None, after: str | None = None, before: str | None = None,
        since: datetime | None = None, until: datetime | None = None,
    ) -> ExecutionList:  # fmt: skip
        """``GET /executions``, newest first; ``id_prefix`` keeps ids starting with it; ``since``
        (included) and ``until`` (excluded) bound the creation time.

        Keyset paging: ``after`` / ``before`` an execution's id give the page after (older) or
        before (newer) it, unaffected by runs recorded meanwhile; ``nextCursor`` continues the
        walk; ``total`` is null with a cursor (docs/keyset-paging.md).

        :raises ValidationFailed: for a bad filter or page, both cursors, a cursor with a page
            past the first, or a cursor naming no stored execution (at its ``loc``).
        """
        ...

    def stream_executions(
        self, *, job_id: str | None = None, status: str | None = None, after: str | None = None,
        since: datetime | None = None, until: datetime | None = None,
    ) -> Iterator[list[ExecutionOut]]:  # fmt: skip
        """``GET /executions/stream``: every execution the filters match after ``after`` (an
        execution's id, as a ``nextCursor``; from the newest without one), newest first as
        :meth:`list_executions`, a page at a time (of the implementation's size). One walk
        instead of a request per page of 100: what ``executions export`` and ``executions list
        --json --all`` read (docs/keyset-paging.md).

        :raises ValidationFailed: as :meth:`list_executions` for the filters and the cursor,
            before anything is read (through the API: when the first page is asked for).
        """
        ...

    def list_job_executions(
        self, job_id: str, *, status: str | None = None, page: int = 1, per_page: int = 50,
        after: str | None = None, before: str | None = None, since: datetime | None = None,
        until: datetime | None = None,
    ) -> ExecutionList:  # fmt: skip
        """``GET /jobs/{id}/executions``, newest first, paged as :meth:`list_executions`.
        :raises NotFound, ValidationFailed:"""
        ...

    def resolve_execution(self, ref: str) -> str:
        """The id of the execution whose id or unique id prefix is ``ref``.

        :raises NotFound: (:class:`~jobctl.errors.ExecutionGone`, 410, for a whole id whose run a
            forced delete of its job ended: its last record, docs/deleting-jobs.md)
        :raises AmbiguousId: for a prefix of several executions' ids (exit 2).
        """
        ...

    def get_execution(self, execution_id: str) -> ExecutionOut:
        """``GET /executions/{id}``. :raises NotFound: (``ExecutionGone`` as for :meth:`resolve_execution`)"""
        ...

    def cancel_execution(self, execution_id: str) -> ExecutionOut:
        """``POST /executions/{id}/cancel``: the execution after the cancel. Operator or admin.

        A pending run ends ``cancelled`` at once; a running one is stopped (TERM to its process
        group, KILL after the kill grace; a Celery task is revoked) by the daemon running it,
        and the call returns once that is recorded ``cancelled`` (``cancelledBy``: the caller).

        :raises NotFound, PermissionDenied:
        :raises Conflict: when the run already ended.
        """
        ...

    def get_execution_log(self, execution_id: str, *, offset: int = 0) -> ExecutionLog:
        """``GET /executions/{id}/log``: output from ``offset`` on; ``complete`` once the run ended
        and everything was read. :raises NotFound, ValidationFailed: (``ExecutionGone`` as for
        :meth:`resolve_execution`)"""
        ...

    # -- notifications --------------------------------------------------------------------

    def list_notifications(
        self, *, job_id: str | None = None, status: str | None = None, page: int = 1, per_page: int = 50
    ) -> NotificationList:
        """``GET /notifications``: deliveries, newest first (``status``: pending, sent, failed).

        :raises ValidationFailed: for a bad filter or page.
        """
        ...

    def list_notifiers(self) -> NotifierList:
        """``GET /notifiers``: the notifiers of the config (the daemon's, remotely), secrets masked."""
        ...

    def test_notifier(self, name: str) -> NotifierTestResult:
        """``POST /notifiers/{name}/test``: send a ``test`` event now; ``ok`` and the error say how it went.
        Admin only.

        :raises NotFound: for a notifier the config does not have.
        :raises PermissionDenied:
        """
        ...

    # -- status ---------------------------------------------------------------------------

    def get_status(self) -> SchedulerStatus:
        """``GET /status``: leader, instances and job counts."""
        ...

    def leading_daemon(self) -> LeadingDaemon | None:
        """The daemon that leads the scheduler (None when none does), and whether it has missed
        its heartbeats (dead or frozen: then nothing starts until it is back or its lease ends
        and another daemon takes over).

        Locally one query; through the API ``isRunning``, ``leaderInstance``, ``leaseExpiresAt``
        and ``leaderHeartbeatOverdue`` of ``GET /status``, the same rules (a standby daemon
        answers, but nobody leads: None).
        """
        ...

    def running_daemon(self, instance_id: str) -> RunningDaemon | None:
        """The instance ``instance_id`` (the one a run is recorded on) as the store last heard
        from it: host, pid, last heartbeat, and its lease TTL while it holds the lease; None once
        it has stopped. Locally two queries; through the API from ``instances`` of ``GET /status``.
        """
        ...

    def get_overview(self) -> Overview:
        """``GET /overview``: what ``jobctl top`` draws, in one call: the status (leader,
        instances), the runs going on (longest first), the next slots (soonest first), the latest
        failed or timed-out runs and the latest missed ranges (newest first), up to 20 each."""
        ...
