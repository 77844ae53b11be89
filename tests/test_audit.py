"""The audit log: every change through the service is recorded with its actor, atomically."""

from __future__ import annotations

from typing import Any

import pytest

from jobctl.errors import Conflict, StoreError
from jobctl.models import AuditEntry, Caller, Role, TaskFunctionSpec
from jobctl.service import Service, audit
from jobctl.service.registry import sync_task_functions
from jobctl.service.tokens import create_token, revoke_token
from jobctl.store import Store
from jobctl.store.audit import AuditFilter

OPS = Caller(user_id="ops-token", role=Role.ADMIN)
LOCAL = Caller(user_id=audit.local_actor(), role=Role.ADMIN)


def body(name: str, **overrides: Any) -> dict[str, Any]:
    return {"name": name, "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"minutes": 5},
            "taskArgs": {"command": "echo hi"}, **overrides}  # fmt: skip


def entries(store: Store, **filters: Any) -> list[AuditEntry]:
    found, total = store.audit.list(AuditFilter(**filters), limit=100, offset=0)
    assert total == len(found)
    return list(reversed(found))  # oldest first


@pytest.mark.parametrize("caller", [OPS, LOCAL], ids=["token", "local"])
def test_every_job_change_is_recorded_with_its_actor(store: Store, caller: Caller) -> None:
    service = Service(store, caller, default_timezone="UTC")
    job = service.create_job(body("backup", environment={"DB_PASSWORD": "hunter2"}))
    service.update_job(job["id"], {"maxInstances": 3, "environment": {"DB_PASSWORD": "swordfish"},
                                   "taskArgs": {"command": "pg_dump postgresql://u:s3cret@db/x"}})  # fmt: skip
    service.update_job(job["id"], {"maxInstances": 3})  # no change: no entry
    service.set_job_status(job["id"], {"isPaused": True})
    service.set_job_status(job["id"], {"isPaused": False})
    service.set_job_status(job["id"], {"isEnabled": False})
    service.set_job_status(job["id"], {"isEnabled": True, "isPaused": True})
    service.trigger_job(job["id"])
    service.delete_job(job["id"], force=True)

    log = entries(store, target_type="job", target_id=job["id"])
    assert [e.action for e in log] == [
        "job.created", "job.updated", "job.paused", "job.resumed", "job.disabled", "job.enabled", "job.paused",
        "job.triggered", "job.deleted",
    ]  # fmt: skip
    assert {e.actor for e in log} == {caller.user_id}
    assert all(e.target_name == "backup" for e in log)
    created, updated = log[0], log[1]
    assert created.details is not None and created.details["settings"]["environment"] == {"DB_PASSWORD": "***"}
    assert created.details["settings"]["maxInstances"] == 1
    assert updated.details == {
        "changes": {
            "maxInstances": {"old": 1, "new": 3},
            "environment": {
                "old": {"DB_PASSWORD": "***"},
                "new": {"DB_PASSWORD": "***"},
                "added": [],
                "removed": [],
                "changed": ["DB_PASSWORD"],
            },
            "taskArgs": {"old": {"command": "echo hi"}, "new": {"command": "pg_dump postgresql://u:***@db/x"}},
        }
    }
    text = repr([e.details for e in log])
    assert "hunter2" not in text and "swordfish" not in text and "s3cret" not in text
    assert log[7].details is not None and "executionId" in log[7].details


def test_an_environment_change_names_the_variables_added_removed_and_changed(store: Store) -> None:
    """The values are masked on both sides, so the entry names which variables changed: the maps
    alone read the same whether ``B`` changed or not."""
    service = Service(store, OPS, default_timezone="UTC")
    job = service.create_job(body("env", environment={"A": "1", "B": "2", "C": "3"}))
    service.update_job(job["id"], {"environment": {"A": "1", "B": "two", "D": "4"}})
    service.update_job(job["id"], {"environment": None})

    changed, cleared = (e.details for e in entries(store, target_type="job", target_id=job["id"])[1:])
    assert changed == {"changes": {"environment": {
        "old": {"A": "***", "B": "***", "C": "***"}, "new": {"A": "***", "B": "***", "D": "***"},
        "added": ["D"], "removed": ["C"], "changed": ["B"],
    }}}  # fmt: skip
    assert cleared == {"changes": {"environment": {
        "old": {"A": "***", "B": "***", "D": "***"}, "new": None,
        "added": [], "removed": ["A", "B", "D"], "changed": [],
    }}}  # fmt: skip
    assert "two" not in repr(changed)


def test_a_change_that_fails_leaves_no_entry_and_an_entry_that_fails_undoes_the_change(store: Store) -> None:
    service = Service(store, OPS, default_timezone="UTC")
    service.create_job(body("a"))
    job = service.create_job(body("b"))
    with pytest.raises(Conflict):
        service.update_job(job["id"], {"name": "a"})
    assert [e.action for e in entries(store, target_id=job["id"])] == ["job.created"]

    store.db.execute("ALTER TABLE audit_log RENAME TO audit_log_away")
    try:
        with pytest.raises(StoreError):
            service.update_job(job["id"], {"maxInstances": 5})
        with pytest.raises(StoreError):
            service.create_job(body("c"))
    finally:
        store.db.execute("ALTER TABLE audit_log_away RENAME TO audit_log")
    assert service.get_job(job["id"])["maxInstances"] == 1
    assert service.list_jobs()["total"] == 2


def test_tokens_and_task_function_syncs_are_recorded(store: Store) -> None:
    _, token = create_token(store, "ci", "operator", actor="local:alice")
    revoke_token(store, "ci")
    spec = TaskFunctionSpec(name="cleanup", display_name="Cleanup", description=None, handler_type="command",
                            handler_path="true")  # fmt: skip
    sync_task_functions(store, (spec,), actor="local:alice")
    sync_task_functions(store, (spec,), actor="local:alice")  # nothing changed: no entry
    sync_task_functions(store, ())

    tokens = entries(store, target_type="token")
    assert [(e.action, e.actor, e.target_name, e.target_id) for e in tokens] == [
        ("token.created", "local:alice", "ci", str(token.id)),
        ("token.revoked", audit.local_actor(), "ci", str(token.id)),
    ]
    assert tokens[0].details == {"role": "operator"}
    syncs = entries(store, target_type="task_functions")
    assert [(e.actor, e.details) for e in syncs] == [
        ("local:alice", {"changed": ["cleanup"], "deactivated": []}),
        (audit.local_actor(), {"changed": [], "deactivated": ["cleanup"]}),
    ]
    assert audit.local_actor().startswith("local:")


def test_a_long_change_is_cut_alike_on_both_sides_where_they_differ() -> None:
    """Two long commands differing at their ends read as different, not as the same cut text."""
    from jobctl.wire.values import VALUE_MAX, change_text

    head = "pg_dump --format=custom --compress=9 --file=/srv/backups/nightly "
    text = change_text("taskArgs", {"old": {"command": head + "app"}, "new": {"command": head + "app2"}})
    old, new = text.removeprefix("taskArgs ").split(" -> ")
    assert old != new and old.startswith("…") and 'app"}' in old and 'app2"}' in new, text
    assert max(len(old), len(new)) <= VALUE_MAX
    path = "/etc/jobctl/jobs.d/" + "x" * 80 + ".toml"
    assert change_text("source", {"old": None, "new": path}) == f'source null -> "{path}"', "a path is never cut"
