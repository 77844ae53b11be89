"""Helpers for the remote tests: a local service and a remote client over one store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import httpx

from jobctl.api import create_app
from jobctl.client import RemoteService
from jobctl.models import Caller, Instance, Role, TaskFunctionSpec
from jobctl.service import Service
from jobctl.service.settings import ServiceSettings
from jobctl.service.tokens import create_token
from jobctl.store import Store

ZONE = "Europe/Berlin"


@dataclass
class Pair:
    """The same operations two ways: ``local`` on the store, ``remote`` through the API."""

    store: Store
    local: Service
    remote: RemoteService
    client: httpx.Client
    secrets: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)

    def remote_as(self, role: str | None) -> RemoteService:
        """Another client of the same app, with the ``role`` token (None: no token)."""
        return RemoteService("http://testserver", token=self.secrets.get(role or ""), client=self.client)

    def fill(self) -> None:
        """Jobs, runs, output, a system task function and a live leader, to read back."""
        spec = TaskFunctionSpec(name="sys", display_name="System", description=None, handler_type="command",
                                handler_path="true", is_system=True)  # fmt: skip
        system = self.store.catalog.upsert_task_function(spec, datetime.now(UTC))
        backup = self.local.create_job(job_body("backup", maxInstances=5, labels={"team": "ops", "tier": "gold"}))
        self.local.create_job(job_body("backup-old", isEnabled=False, labels={"team": "ops"}))
        nightly = self.local.create_job(job_body("nightly", jobTypeId=2, scheduleConfig={"hour": "3", "minute": "0"}))
        protected = self.local.create_job(job_body("protected", taskFunctionId=system.id, taskArgs=None))
        self.store.catalog.upsert_task_function(replace(spec, is_active=False), datetime.now(UTC))
        runs = [self.local.trigger_job(backup["id"])["executionId"] for _ in range(3)]
        self._finish(runs[0], "success", "line one\nline two\n")
        self._finish(runs[1], "failed", "oops\n")
        self.ids.update(backup=backup["id"], protected=protected["id"], run=runs[0], pending=runs[2])
        self.ids["nightly"] = nightly["id"]
        self.ids["disabled"] = self.local.resolve_job("backup-old")

    def _finish(self, execution_id: str, status: str, output: str) -> None:
        now = datetime.now(UTC)
        executions = self.store.executions
        if not any(i.id == "instance-1" for i in self.store.cluster.live_instances()):
            instance = Instance(
                id="instance-1",
                hostname="h",
                pid=1,
                version="0.1.0",
                started_at=now,
                last_heartbeat=now,
                stopped_at=None,
            )
            self.store.cluster.register_instance(instance)
        executions.mark_running(execution_id, instance_id="instance-1", started_at=now)
        executions.append_output(execution_id, 0, output)
        executions.finish(execution_id, status=status, started_at=None, completed_at=now, duration_seconds=1.25,
                          result={"exitCode": 0 if status == "success" else 1}, error_message=None)  # fmt: skip


def job_body(name: str, **fields: Any) -> dict[str, Any]:
    """A valid ``POST /jobs`` body: every 5 minutes, a shell command."""
    body = {"name": name, "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"minutes": 5},
            "taskArgs": {"command": "true"}}  # fmt: skip
    return {**body, **fields}


@contextmanager
def make_pair(store: Store, client_class: type[httpx.Client]) -> Iterator[Pair]:
    """A local admin service and a remote client with the admin token, as the same user."""
    secrets = {role.value: create_token(store, f"{role.value}-token", role.value)[0] for role in Role}
    local = Service(store, Caller(user_id="admin-token", role=Role.ADMIN), default_timezone=ZONE)
    app = create_app(store, settings=ServiceSettings(default_timezone=ZONE))
    with client_class(app) as client:  # type: ignore[call-arg]
        remote = RemoteService("http://testserver", token=secrets["admin"], client=client)
        yield Pair(store=store, local=local, remote=remote, client=client, secrets=secrets)
        remote.close()
