"""A manual trigger of a Celery job names its Celery task at once (no broker, no Celery needed)."""

from __future__ import annotations

import uuid
from pathlib import Path

from jobctl.models import Caller, Role
from jobctl.service import Service
from jobctl.store import open_store
from tests.celery.helpers import celery_spec, register


def test_trigger_assigns_the_celery_task_id_only_for_celery_task_functions(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'jobctl.db'}")
    try:
        service = Service(store, Caller(user_id="tester", role=Role.ADMIN), default_timezone="UTC")
        task_function_id = register(store, celery_spec("celery-add", "add", "some-queue"))
        body = {"jobTypeId": 1, "scheduleConfig": {"hours": 1}, "maxInstances": 5}
        celery_job = service.create_job({**body, "name": "remote", "taskFunctionId": task_function_id})
        shell_job = service.create_job({**body, "name": "local", "taskFunctionId": 1, "taskArgs": {"command": "true"}})

        first, second = service.trigger_job(celery_job["id"]), service.trigger_job(celery_job["id"])
        for response in (first, second):
            assert str(uuid.UUID(response["celeryTaskId"])) == response["celeryTaskId"]
            execution = service.get_execution(response["executionId"])
            assert execution["status"] == "pending" and execution["celeryTaskId"] == response["celeryTaskId"]
        assert first["celeryTaskId"] != second["celeryTaskId"]

        local = service.trigger_job(shell_job["id"])
        assert local["celeryTaskId"] is None
        assert service.get_execution(local["executionId"])["celeryTaskId"] is None
    finally:
        store.close()
