"""The service interface over the daemon's REST API, for the CLI's remote mode.

:class:`RemoteService` implements :class:`jobctl.service.contract.JobService` (mypy checks it)
with the same return values and errors as the local service, so every command works the same
through ``--api`` as on the store; ``tests/remote`` holds both to one contract. Answers are typed with the shapes of
:mod:`jobctl.wire.responses` as they are decoded (a TypedDict is a static type: the server
built them from the same declarations). Role checks
happen on the server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from jobctl.client.session import ApiSession
from jobctl.errors import ExecutionGone, NotFound, ValidationFailed
from jobctl.models import LeadingDaemon, RunningDaemon
from jobctl.wire import ids
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

if TYPE_CHECKING:
    from jobctl.service.contract import JobService

SEARCH_PAGE = 100
"""Page size when searching by name; the API's maximum."""


FORCED_DELETE_TIMEOUT = 90.0
"""Seconds a forced delete may take: the server stops the job's runs first (``kill_grace_seconds``,
at most 60, and 3 s more)."""
CANCEL_TIMEOUT = 90.0
"""Seconds a cancel may take: the daemon stops the run first (``kill_grace_seconds``, at most 60, and 3 more)."""


class RemoteService:
    """The scheduler's operations, performed by the daemon at ``base_url`` for ``token``'s owner.

    Pass ``client`` (an ``httpx.Client`` such as FastAPI's ``TestClient``) or ``transport`` to
    talk to an app in-process. :raises ApiUnreachable: from every method when the API cannot be reached.
    """

    def __init__(
        self, base_url: str, *, token: str | None, timeout: float = 10.0, client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:  # fmt: skip
        self.base_url = base_url
        self._session = ApiSession(base_url, token=token, timeout=timeout, client=client, transport=transport)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> RemoteService:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- catalog --------------------------------------------------------------------------

    def list_task_functions(
        self, *, is_active: bool | None = None, page: int = 1, per_page: int = 50
    ) -> TaskFunctionList:
        params = {"is_active": is_active, "page": page, "per_page": per_page}
        result: TaskFunctionList = self._session.request("GET", "/task-functions", params=params)
        return result

    def resolve_task_function(self, name: str) -> int:
        """The id of the task function called ``name``. :raises NotFound:"""
        for page in _pages(lambda number: self.list_task_functions(page=number, per_page=SEARCH_PAGE), "taskFunctions"):
            for task_function in page:
                if task_function["name"] == name:
                    return int(task_function["id"])
        raise NotFound("task function", name)

    def list_job_types(self) -> list[JobTypeOut]:
        result: list[JobTypeOut] = self._session.request("GET", "/job-types")
        return result

    # -- jobs -----------------------------------------------------------------------------

    def list_jobs(
        self, *, name: str | None = None, is_enabled: bool | None = None, task_function_id: int | None = None,
        labels: Sequence[str] = (), page: int = 1, per_page: int = 20, id_prefix: str | None = None,
        after: str | None = None,
    ) -> JobList:  # fmt: skip
        params = {"name": name, "is_enabled": is_enabled, "task_function_id": task_function_id,
                  "label": list(labels), "page": page, "per_page": per_page, "id_prefix": id_prefix,
                  "after": after}  # fmt: skip
        result: JobList = self._session.request("GET", "/jobs", params=params)
        return result

    def stream_jobs(
        self, *, name: str | None = None, is_enabled: bool | None = None, task_function_id: int | None = None,
        labels: Sequence[str] = (), after: str | None = None,
    ) -> Iterator[list[JobOut]]:  # fmt: skip
        params = {"name": name, "is_enabled": is_enabled, "task_function_id": task_function_id,
                  "label": list(labels), "after": after}  # fmt: skip
        pages: Iterator[list[JobOut]] = self._session.stream_lines("/jobs/stream", params=params)
        return pages

    def get_job(self, job_id: str) -> JobDetail:
        result: JobDetail = self._job_request("GET", job_id, "")
        return result

    def resolve_job(self, ref: str) -> str:
        """The id of the job whose id or unique name is ``ref``. :raises NotFound:"""
        if ids.is_uuid(ref):
            try:
                return str(self.get_job(ref)["id"])
            except NotFound:
                pass  # a name that looks like an id, as the local service allows
        try:
            for job in self._jobs_named_like(ref):
                if job["name"] == ref:
                    return str(job["id"])
        except ValidationFailed:
            pass  # no job can have a name the filter refuses (too long, NUL)
        prefix = ids.as_prefix(ref)
        if prefix is not None:
            found = self.list_jobs(id_prefix=prefix, per_page=ids.LISTED + 1)["jobs"]
            match = ids.unique_match("job", ref, [(job["id"], job["name"]) for job in found])
            if match is not None:
                return match
        raise NotFound("job", ref)

    def _jobs_named_like(self, text: str) -> Iterator[JobOut]:
        """The jobs whose name contains ``text``, by keyset walk (a name search may match
        thousands: page numbers would recount them all on every page)."""
        cursor: str | None = None
        while True:
            page = self.list_jobs(name=text, per_page=SEARCH_PAGE, after=cursor)
            yield from page["jobs"]
            cursor = page["nextCursor"]
            if cursor is None:
                return

    def create_job(self, body: Mapping[str, Any]) -> JobOut:
        result: JobOut = self._session.request("POST", "/jobs", body=dict(body))
        return result

    def update_job(self, job_id: str, body: Mapping[str, Any]) -> JobDetail:
        result: JobDetail = self._job_request("PUT", job_id, "", body=dict(body))
        return result

    def set_job_status(self, job_id: str, body: Mapping[str, Any]) -> JobDetail:
        result: JobDetail = self._job_request("PUT", job_id, "/status", body=dict(body))
        return result

    def delete_job(self, job_id: str, *, force: bool = False) -> None:
        if not force:
            self._job_request("DELETE", job_id, "")
            return
        # The server waits for the daemon to stop the runs (kill grace included): allow for it.
        self._job_request("DELETE", job_id, "", params={"force": "true"}, timeout=FORCED_DELETE_TIMEOUT)

    def get_next_runs(self, job_id: str, *, count: int = 5) -> NextRunTimes:
        result: NextRunTimes = self._job_request("GET", job_id, "/next", params={"count": count})
        return result

    def get_job_timeline(self, job_id: str, *, since: str | None = None, until: str | None = None) -> JobTimeline:
        result: JobTimeline = self._job_request("GET", job_id, "/timeline", params={"since": since, "until": until})
        return result

    def list_audit(
        self, *, job_id: str | None = None, actor: str | None = None, since: str | None = None, page: int = 1,
        per_page: int = 50,
    ) -> AuditList:  # fmt: skip
        params = {"job_id": job_id, "actor": actor, "since": since, "page": page, "per_page": per_page}
        result: AuditList = self._session.request("GET", "/audit", params=params)
        return result

    def apply_jobs(
        self,
        *,
        source: str,
        jobs: Sequence[Mapping[str, Any]],
        prune: bool = False,
        dry_run: bool = False,
        allow_empty: bool = False,
    ) -> ApplyPlan:
        body = {"source": source, "jobs": [dict(job) for job in jobs], "prune": prune, "dryRun": dry_run}
        if allow_empty:  # only when given: a daemon of the version before takes no such field
            body["allowEmpty"] = True
        result: ApplyPlan = self._session.request("POST", "/apply", body=body)
        return result

    def trigger_job(self, job_id: str) -> TriggerResult:
        result: TriggerResult = self._job_request("POST", job_id, "/trigger")
        return result

    # -- executions -----------------------------------------------------------------------

    def list_executions(
        self, *, job_id: str | None = None, status: str | None = None, page: int = 1, per_page: int = 50,
        id_prefix: str | None = None, after: str | None = None, before: str | None = None,
        since: datetime | None = None, until: datetime | None = None,
    ) -> ExecutionList:  # fmt: skip
        params = {"job_id": job_id, "status": status, "page": page, "per_page": per_page, "id_prefix": id_prefix,
                  **_cursor_params(after, before, since, until)}  # fmt: skip
        result: ExecutionList = self._session.request("GET", "/executions", params=params)
        return result

    def stream_executions(
        self, *, job_id: str | None = None, status: str | None = None, after: str | None = None,
        since: datetime | None = None, until: datetime | None = None,
    ) -> Iterator[list[ExecutionOut]]:  # fmt: skip
        params = {"job_id": job_id, "status": status, **_cursor_params(after, None, since, until)}
        pages: Iterator[list[ExecutionOut]] = self._session.stream_lines("/executions/stream", params=params)
        return pages

    def list_job_executions(
        self, job_id: str, *, status: str | None = None, page: int = 1, per_page: int = 50,
        after: str | None = None, before: str | None = None, since: datetime | None = None,
        until: datetime | None = None,
    ) -> ExecutionList:  # fmt: skip
        params = {"status": status, "page": page, "per_page": per_page, **_cursor_params(after, before, since, until)}
        result: ExecutionList = self._job_request("GET", job_id, "/executions", params=params)
        return result

    def resolve_execution(self, ref: str) -> str:
        """The id of the execution whose id or unique id prefix is ``ref``. :raises NotFound, AmbiguousId:"""
        if ids.is_uuid(ref):
            try:
                return str(self.get_execution(ref)["id"])
            except ExecutionGone:
                raise
            except NotFound:
                pass
        prefix = ids.as_prefix(ref)
        if prefix is not None:
            found = self.list_executions(id_prefix=prefix, per_page=ids.LISTED + 1)["executions"]
            match = ids.unique_match("execution", ref, [(e["id"], e["status"]) for e in found])
            if match is not None:
                return match
        raise ids.execution_not_found(ref)

    def get_execution(self, execution_id: str) -> ExecutionOut:
        result: ExecutionOut = self._execution_request(execution_id, "")
        return result

    def cancel_execution(self, execution_id: str) -> ExecutionOut:
        # The server waits for the daemon to stop the run (kill grace included): allow for it.
        result: ExecutionOut = self._execution_request(execution_id, "/cancel", method="POST", timeout=CANCEL_TIMEOUT)
        return result

    def get_execution_log(self, execution_id: str, *, offset: int = 0) -> ExecutionLog:
        result: ExecutionLog = self._execution_request(execution_id, "/log", params={"offset": offset})
        return result

    # -- status ---------------------------------------------------------------------------

    def list_notifications(
        self, *, job_id: str | None = None, status: str | None = None, page: int = 1, per_page: int = 50
    ) -> NotificationList:
        params = {"job_id": job_id, "status": status, "page": page, "per_page": per_page}
        result: NotificationList = self._session.request("GET", "/notifications", params=params)
        return result

    def list_notifiers(self) -> NotifierList:
        result: NotifierList = self._session.request("GET", "/notifiers")
        return result

    def test_notifier(self, name: str) -> NotifierTestResult:
        path = f"/notifiers/{quote(name, safe='')}/test"
        result: NotifierTestResult = self._session.request(
            "POST", path, not_found=lambda: NotFound("notifier", name), timeout=330.0
        )
        return result

    def get_status(self) -> SchedulerStatus:
        result: SchedulerStatus = self._session.request("GET", "/status")
        return result

    def leading_daemon(self) -> LeadingDaemon | None:
        """From ``GET /status``: the daemon answering may be a standby with no leader. An older
        daemon's answer has no ``leaseExpiresAt`` and ``leaderHeartbeatOverdue``: not overdue."""
        status = self.get_status()
        leader = status["leaderInstance"]
        if not status["isRunning"] or leader is None:
            return None
        expires = status.get("leaseExpiresAt")
        return LeadingDaemon(
            hostname=leader["hostname"],
            pid=leader["pid"],
            last_heartbeat=datetime.fromisoformat(leader["lastHeartbeat"]),
            lease_expires_at=None if expires is None else datetime.fromisoformat(expires),
            heartbeat_overdue=bool(status.get("leaderHeartbeatOverdue")),
        )

    def running_daemon(self, instance_id: str) -> RunningDaemon | None:
        """From ``instances`` of ``GET /status`` (instances that have not stopped); the lease TTL
        from ``leaseExpiresAt`` when it leads (an older daemon's answer has none: unknown)."""
        status = self.get_status()
        found = next((i for i in status["instances"] if i["id"] == instance_id), None)
        if found is None:
            return None
        last_beat = datetime.fromisoformat(found["lastHeartbeat"])
        expires = status.get("leaseExpiresAt") if found["isLeader"] else None
        return RunningDaemon(
            hostname=found["hostname"],
            pid=found["pid"],
            last_heartbeat=last_beat,
            lease_ttl=None if expires is None else datetime.fromisoformat(expires) - last_beat,
        )

    def get_overview(self) -> Overview:
        result: Overview = self._session.request("GET", "/overview")
        return result

    # -- helpers --------------------------------------------------------------------------

    def _job_request(self, method: str, job_id: str, suffix: str, **kwargs: Any) -> Any:
        """A request under ``/jobs/{id}``; an id that is no UUID cannot exist, as on the server."""
        if not ids.is_uuid(job_id):
            raise NotFound("job", job_id)
        path = f"/jobs/{quote(job_id, safe='')}{suffix}"
        return self._session.request(method, path, not_found=lambda: NotFound("job", job_id), **kwargs)

    def _execution_request(self, execution_id: str, suffix: str, *, method: str = "GET", **kwargs: Any) -> Any:
        if not ids.is_uuid(execution_id):
            raise NotFound("execution", execution_id)
        path = f"/executions/{quote(execution_id, safe='')}{suffix}"
        return self._session.request(method, path, not_found=lambda: ids.execution_not_found(execution_id), **kwargs)


def _pages(fetch: Callable[[int], Mapping[str, Any]], key: str) -> Iterator[list[Mapping[str, Any]]]:
    """The items of every page ``fetch(page_number)`` returns, until ``total`` is reached."""
    number, seen = 1, 0
    while True:
        result = fetch(number)
        items = result[key]
        yield items
        seen += len(items)
        if not items or seen >= result["total"]:
            return
        number += 1


def _cursor_params(
    after: str | None, before: str | None, since: datetime | None, until: datetime | None
) -> dict[str, str | None]:
    """The keyset paging parameters of the execution listings, times in UTC with a ``Z``."""
    from jobctl.wire.responses import timestamp

    return {"after": after, "before": before, "since": timestamp(since), "until": timestamp(until)}


if TYPE_CHECKING:

    def _implements_the_contract(remote: RemoteService) -> JobService:
        """Never called: mypy fails here if :class:`RemoteService` drifts from the contract."""
        return remote
