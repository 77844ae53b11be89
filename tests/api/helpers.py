"""Helpers for the API tests: an in-process client with a token per role, and job bodies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from jobctl.api import API_PREFIX, create_app
from jobctl.models import TaskFunctionSpec
from jobctl.service.settings import ServiceSettings
from jobctl.service.tokens import create_token
from jobctl.store import Store

ROLES = ("viewer", "operator", "admin")
ZONE = "Europe/Berlin"


@dataclass
class Api:
    """A client of the app with a token per role; ``changes`` counts ``on_change`` calls."""

    client: httpx.Client
    store: Store
    secrets: dict[str, str]
    changes: list[int] = field(default_factory=list)

    def headers(self, role: str | None = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[role]}"} if role else {}

    def call(self, method: str, path: str, *, role: str | None = "admin", prefix: str = API_PREFIX,
             **kwargs: Any) -> httpx.Response:  # fmt: skip
        headers = {**self.headers(role), **kwargs.pop("headers", {})}
        return self.client.request(method, prefix + path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("GET", path, **kwargs)

    def create_job(self, name: str = "backup", **fields: Any) -> dict[str, Any]:
        response = self.call("POST", "/jobs", json=job_body(name, **fields))
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def system_task_function(self) -> int:
        """A task function marked ``isSystem`` (jobs using it cannot be deleted)."""
        spec = TaskFunctionSpec(
            name="sys_cleanup", display_name="System cleanup", description="protected",
            handler_type="command", handler_path="true", is_system=True,
        )  # fmt: skip
        return self.store.catalog.upsert_task_function(spec, datetime.now(UTC)).id


def job_body(name: str = "backup", **fields: Any) -> dict[str, Any]:
    """A valid ``POST /jobs`` body: every 5 minutes, a shell command."""
    body = {
        "name": name, "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"minutes": 5},
        "taskArgs": {"command": "true"},
    }  # fmt: skip
    return {**body, **fields}


@contextmanager
def make_api(store: Store, client_class: type[httpx.Client], *, docs: bool = False) -> Iterator[Api]:
    """The app over ``store`` in a ``client_class`` (FastAPI's TestClient), one token per role."""
    secrets = {role: create_token(store, f"{role}-token", role)[0] for role in ROLES}
    changes: list[int] = []
    settings = ServiceSettings(default_timezone=ZONE)
    app = create_app(store, settings=settings, on_change=lambda: changes.append(1), docs=docs)
    with client_class(app) as client:  # type: ignore[call-arg]
        yield Api(client=client, store=store, secrets=secrets, changes=changes)


def run_execution(api: Api, job_id: str, *, output: str = "hello\n", status: str = "success") -> str:
    """A manual run of ``job_id`` taken by an instance, with output, finished as ``status``."""
    execution_id: str = api.call("POST", f"/jobs/{job_id}/trigger").json()["executionId"]
    executions = api.store.executions
    now = datetime.now(UTC)
    assert executions.mark_running(execution_id, instance_id=start_leader(api), started_at=now)
    executions.append_output(execution_id, 0, output)
    executions.finish(execution_id, status=status, started_at=None, completed_at=now, duration_seconds=0.5,
                      result={"exitCode": 0}, error_message=None)  # fmt: skip
    return execution_id


def start_leader(api: Api, instance_id: str = "instance-1") -> str:
    """Register a live instance holding the leader lease (what a daemon does on start)."""
    from datetime import timedelta

    from jobctl.models import Instance

    cluster = api.store.cluster
    if not any(instance.id == instance_id for instance in cluster.live_instances()):
        now = datetime.now(UTC)
        cluster.register_instance(Instance(id=instance_id, hostname="host-1", pid=4242, version="0.1.0",
                                           started_at=now, last_heartbeat=now, stopped_at=None))  # fmt: skip
        assert cluster.acquire_or_renew_lease(instance_id, timedelta(minutes=5)) is not None
    return instance_id


def nested_args(levels: int) -> dict[str, Any]:
    """Shell arguments whose objects nest ``levels`` deep, the arguments' own object the first."""
    args: dict[str, Any] = {"command": "true"}
    inner = args
    for _ in range(levels - 1):
        inner["a"] = {}
        inner = inner["a"]
    return args
