"""``apply_jobs``: a jobs file's tables made true in the store, all or nothing, writing nothing
when nothing changed (counted on the database itself), on SQLite and Postgres."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from jobctl.errors import Conflict, PermissionDenied, ValidationFailed
from jobctl.models import Caller, Role
from jobctl.service import Service
from jobctl.store import Store

JOBS: list[dict[str, Any]] = [
    {"name": "backup", "cron": "0 2 * * *", "command": "tar czf /tmp/etc.tgz /etc", "timeout": "30s",
     "labels": {"team": "ops"}},
    {"name": "ping", "every": "5m", "command": "true", "retries": 2, "retry_delay": "90s"},
    {"name": "report", "cron": "0 9 * * 1-5", "timezone": "UTC", "command": "echo hi", "env": {"A": "1"},
     "paused": True, "description": "weekday report"},
]  # fmt: skip


def write_counter(store: Store) -> Callable[[], int]:
    """Rows written since the call: SQLite's total_changes, Postgres' row versions (xmin) and
    the store's change generation, read from the database itself."""
    if store.db.is_sqlite:
        connection = store.db.connection()
        start = connection.total_changes
        return lambda: connection.total_changes - start

    def versions() -> dict[str, Any]:
        rows = store.db.fetch_all("SELECT id, xmin::text AS v FROM jobs")
        state = store.db.fetch_all("SELECT xmin::text AS v FROM store_state")
        return {**{row["id"]: row["v"] for row in rows}, "state": [row["v"] for row in state]}

    before = versions()
    return lambda: (
        sum(1 for key, value in versions().items() if before.get(key) != value) + len(set(before) - set(versions()))
    )


def test_first_apply_creates_and_second_writes_nothing(service: Service, store: Store) -> None:
    plan = service.apply_jobs(source="jobs.toml", jobs=JOBS)
    assert plan == {"created": ["backup", "ping", "report"], "updated": [], "deleted": [], "unchanged": 0,
                    "staysPaused": []}  # fmt: skip
    backup = service.get_job(service.resolve_job("backup"))
    assert (backup["timeoutSeconds"], backup["labels"], backup["source"]) == (30, {"team": "ops"}, "jobs.toml")
    assert backup["scheduleConfig"]["timezone"] == "Europe/Berlin"  # the service's default zone
    report = service.get_job(service.resolve_job("report"))
    assert (report["isPaused"], report["environment"], report["nextRunTime"]) == (True, {"A": "1"}, None)
    updated_at = backup["updatedAt"]
    writes = write_counter(store)
    again = service.apply_jobs(source="jobs.toml", jobs=JOBS)
    assert again == {"created": [], "updated": [], "deleted": [], "unchanged": 3, "staysPaused": []}
    assert writes() == 0
    assert service.get_job(service.resolve_job("backup"))["updatedAt"] == updated_at


def test_a_change_is_planned_per_key_and_written(service: Service) -> None:
    service.apply_jobs(source="jobs.toml", jobs=JOBS)
    before = service.get_job(service.resolve_job("backup"))
    changed = [{**JOBS[0], "timeout": "1m", "cron": "30 2 * * *"}, {**JOBS[1], "retries": 0}, JOBS[2]]
    plan = service.apply_jobs(source="jobs.toml", jobs=changed)
    assert plan["updated"] == [
        {"name": "backup", "changes": {"cron": ["0 2 * * *", "30 2 * * *"], "timeout": ["30s", "1m"]}},
        {"name": "ping", "changes": {"retries": [2, 0]}},
    ]
    assert plan["unchanged"] == 1
    backup = service.get_job(service.resolve_job("backup"))
    assert (backup["timeoutSeconds"], backup["scheduleConfig"]["expression"]) == (60, "30 2 * * *")
    assert backup["nextRunTime"] not in (None, before["nextRunTime"])  # rescheduled with the new schedule
    from jobctl.store.audit import AuditFilter

    entries, _ = service.store.audit.list(AuditFilter(), limit=20, offset=0)
    updates = [e for e in entries if e.action == "job.updated"]
    assert sorted(e.target_name for e in updates) == ["backup", "ping"]
    assert all(e.details and e.details["appliedFrom"] == "jobs.toml" for e in updates)
    assert {e.target_name for e in entries if e.action == "job.created"} == {"backup", "ping", "report"}
    assert (
        service.get_job(service.resolve_job("report"))["updatedAt"]
        == service.get_job(service.resolve_job("report"))["createdAt"]
    )


def test_dry_run_plans_and_writes_nothing(service: Service, store: Store) -> None:
    writes = write_counter(store)
    plan = service.apply_jobs(source="jobs.toml", jobs=JOBS, dry_run=True)
    assert plan["created"] == ["backup", "ping", "report"]
    assert writes() == 0
    assert service.list_jobs()["total"] == 0


def test_one_invalid_job_changes_nothing_and_every_error_names_its_job(service: Service, store: Store) -> None:
    service.apply_jobs(source="jobs.toml", jobs=JOBS[:1])
    writes = write_counter(store)
    bad = [
        {**JOBS[0], "timeout": "2m"},
        {"name": "x", "every": "5q", "command": "true", "colour": "red"},
        {"name": "y", "cron": "0 2 * * *", "task": "no-such-task", "retries": -1},
        {"name": "z", "cron": "0 0 30 2 *", "command": "true"},
        {"name": "backup", "every": "1h", "command": "true"},
    ]
    with pytest.raises(ValidationFailed) as caught:
        service.apply_jobs(source="jobs.toml", jobs=bad)
    found = {(tuple(error["loc"][2:]), error["msg"].split(":")[0]) for error in caught.value.errors}
    assert found == {
        ((1, "colour"), "job 'x'"),
        ((1, "every"), "job 'x'"),
        ((2, "task"), "job 'y'"),
        ((2, "retries"), "job 'y'"),
        ((3, "cron"), "job 'z'"),
        ((4, "name"), "job 'backup'"),
    }
    assert all(error["loc"][:2] == ["body", "jobs"] for error in caught.value.errors)
    assert writes() == 0
    assert service.get_job(service.resolve_job("backup"))["timeoutSeconds"] == 30


BAD_TABLES: list[tuple[dict[str, Any], str, str]] = [
    ({"name": "a", "command": "true"}, "every", "give every, cron or at"),
    ({"name": "a", "every": "1h", "cron": "* * * * *", "command": "true"}, "cron", "only one of"),
    ({"name": "a", "every": "1h"}, "command", "give what to run"),
    ({"name": "a", "every": "1h", "command": "true", "task": "shell"}, "task", "either command or task"),
    ({"name": "a", "every": "1h", "command": "true", "timeout": "soon"}, "timeout", "duration"),
    ({"name": "a", "every": "1h", "command": "true", "timeout": True}, "timeout", "got True"),
    ({"name": "a", "every": "1h", "command": "true", "timezone": "UTC"}, "timezone", "goes with cron or at"),
    ({"name": "a", "cron": "0 2 * * *", "timezone": "Mars/Base", "command": "true"}, "timezone", "Mars/Base"),
    ({"name": "a", "at": "09:00", "command": "true"}, "at", "date-time"),
    ({"name": "a", "at": "2001-01-01T00:00:00Z", "command": "true"}, "at", "past"),
    ({"name": "a", "every": "1h", "command": "true", "labels": {"bad key": "x"}}, "labels", "labels"),
    ({"name": "a", "every": "1h", "command": "true", "env": {"A": "1"}, "environment": {}}, "environment", "either"),
    ({"name": "a", "every": "1h", "command": "true", "misfire": "often"}, "misfire", "misfire"),
    ({"name": "a", "every": "1h", "command": "true", "enabled": "yes"}, "enabled", "enabled"),
    ({"name": "", "every": "1h", "command": "true"}, "name", "name"),
    ({"every": "1h", "command": "true"}, "name", "needs a name"),
]
"""A table, the key its error is at, and words of the message."""


def test_bad_keys_are_reported_at_the_key(service: Service) -> None:
    for table, key, words in BAD_TABLES:
        with pytest.raises(ValidationFailed) as caught:
            service.apply_jobs(source="f.toml", jobs=[table])
        keys = {error["loc"][3] for error in caught.value.errors if len(error["loc"]) > 3}
        assert key in keys, caught.value.errors
        assert words in str(caught.value.errors), caught.value.errors
    assert service.list_jobs()["total"] == 0


def test_prune_deletes_only_jobs_of_that_source(service: Service) -> None:
    service.apply_jobs(source="a.toml", jobs=JOBS[:2])
    service.apply_jobs(source="b.toml", jobs=JOBS[2:])
    service.create_job(
        {"name": "by-hand", "taskFunctionId": service.resolve_task_function("shell"), "jobTypeId": 1,
         "scheduleConfig": {"hours": 1}, "taskArgs": {"command": "true"}}
    )  # fmt: skip
    kept = service.apply_jobs(source="a.toml", jobs=JOBS[1:2])
    assert kept["deleted"] == []  # without --prune nothing goes
    plan = service.apply_jobs(source="a.toml", jobs=JOBS[1:2], prune=True)
    assert (plan["deleted"], plan["unchanged"]) == (["backup"], 1)
    names = sorted(job["name"] for job in service.list_jobs()["jobs"])
    assert names == ["by-hand", "ping", "report"]


def test_apply_adopts_a_job_made_by_hand_and_says_so(service: Service) -> None:
    service.create_job(
        {"name": "ping", "taskFunctionId": service.resolve_task_function("shell"), "jobTypeId": 1,
         "scheduleConfig": {"minutes": 5}, "taskArgs": {"command": "true"}, "retryCount": 2,
         "retryDelaySeconds": 90}
    )  # fmt: skip
    plan = service.apply_jobs(source="a.toml", jobs=[JOBS[1]])
    assert plan["updated"] == [{"name": "ping", "changes": {"source": [None, "a.toml"]}}]
    assert service.apply_jobs(source="a.toml", jobs=[JOBS[1]])["unchanged"] == 1


def test_prune_of_a_job_with_a_pending_run_is_refused_and_changes_nothing(service: Service) -> None:
    service.apply_jobs(source="a.toml", jobs=JOBS[:2])
    service.trigger_job(service.resolve_job("backup"))
    with pytest.raises(Conflict, match="backup"):
        service.apply_jobs(source="a.toml", jobs=[{**JOBS[1], "retries": 5}], prune=True)
    assert service.get_job(service.resolve_job("ping"))["retryCount"] == 2


def test_a_dry_run_meets_the_conflict_the_apply_would(service: Service, store: Store) -> None:
    """The dry run answers what the apply would: the same 409, not a plan that deletes the job."""
    service.apply_jobs(source="a.toml", jobs=JOBS[:2])
    service.trigger_job(service.resolve_job("backup"))
    writes = write_counter(store)
    with pytest.raises(Conflict) as dry:
        service.apply_jobs(source="a.toml", jobs=JOBS[1:2], prune=True, dry_run=True)
    with pytest.raises(Conflict) as real:
        service.apply_jobs(source="a.toml", jobs=JOBS[1:2], prune=True)
    assert dry.value.message == real.value.message
    assert "cannot prune job(s) with pending or running runs: 'backup'" in dry.value.message
    assert writes() == 0
    assert service.apply_jobs(source="a.toml", jobs=JOBS[1:2], dry_run=True)["deleted"] == []  # no prune: no conflict


def test_disabling_through_apply_skips_waiting_runs(service: Service) -> None:
    service.apply_jobs(source="a.toml", jobs=JOBS[:1])
    run = service.trigger_job(service.resolve_job("backup"))
    plan = service.apply_jobs(source="a.toml", jobs=[{**JOBS[0], "enabled": False}])
    assert plan["updated"] == [{"name": "backup", "changes": {"enabled": [True, False]}}]
    assert service.get_execution(run["executionId"])["status"] == "skipped"


def test_apply_needs_the_admin_role(store: Store) -> None:
    operator = Service(store, Caller(user_id="op", role=Role.OPERATOR), default_timezone="UTC")
    with pytest.raises(PermissionDenied):
        operator.apply_jobs(source="a.toml", jobs=JOBS, dry_run=True)


def test_a_bad_source_is_refused_at_source(service: Service) -> None:
    for source in ["", "x" * 201, "a\nb"]:
        with pytest.raises(ValidationFailed) as caught:
            service.apply_jobs(source=source, jobs=JOBS)
        assert caught.value.errors[0]["loc"] == ["body", "source"]


def test_the_tables_defaults_are_the_apis_and_every_setting_is_a_file_key() -> None:
    """A job field added later is a jobs-file key (through JOB_SETTING_KEYS, or by name in
    jobctl/wire/job_tables.py), else export would drop it and apply could not set it."""
    import dataclasses

    from jobctl.models import JobSettings
    from jobctl.wire.job_keys import JOB_SETTING_KEYS
    from jobctl.wire.job_tables import FIELD_DEFAULTS, FIELDS_OF_KEY, KEY_ORDER
    from jobctl.wire.requests import JobCreate

    api_defaults = {setting.field: JobCreate.model_fields[setting.field].default for setting in JOB_SETTING_KEYS}
    assert {field: value for field, value in api_defaults.items() if value is not None} == FIELD_DEFAULTS
    assert {setting.key for setting in JOB_SETTING_KEYS} <= set(KEY_ORDER)  # each plain option is a file key
    covered = {field for fields in FIELDS_OF_KEY.values() for field in fields} | {"source"}
    camel = {"".join(part.title() if i else part for i, part in enumerate(f.name.split("_")))
             for f in dataclasses.fields(JobSettings)}  # fmt: skip
    assert camel - covered == set()


def test_notify_rules_and_pause_after_failures_are_file_keys(service: Service) -> None:
    table = {**JOBS[1], "notify": [], "pause_after_failures": 3}
    service.apply_jobs(source="n.toml", jobs=[table])
    job = service.get_job(service.resolve_job("ping"))
    assert (job["notify"], job["pauseAfterFailures"]) == ([], 3)
    assert service.apply_jobs(source="n.toml", jobs=[table])["unchanged"] == 1
    plan = service.apply_jobs(source="n.toml", jobs=[JOBS[1]], dry_run=True)
    assert plan["updated"] == [{"name": "ping", "changes": {"pause_after_failures": [3, None], "notify": [[], None]}}]
    with pytest.raises(ValidationFailed) as caught:
        service.apply_jobs(source="n.toml", jobs=[{**table, "notify": [{"notifier": "nobody", "on": ["failure"]}]}])
    assert caught.value.errors[0]["loc"] == ["body", "jobs", 0, "notify", 0, "notifier"]


SECRET_JOB: dict[str, Any] = {
    "name": "dump", "every": "1h", "command": "pg_dump postgres://app:url-one@127.0.0.1/app", "stdin": "stdin-one",
    "args": {"password": "arg-one", "level": 1}, "env": {"PGPASSWORD": "s3cret-one", "OLD": "old-one", "SAME": "x"},
}  # fmt: skip


def test_a_plan_names_the_variables_it_changes_and_masks_every_secret(service: Service) -> None:
    """A plan goes into deploy logs: environment values and stdin masked whole, secret-looking
    keys and passwords in URLs masked (the audit log's rules), each variable named by what
    happens to it; the job itself gets the values."""
    service.apply_jobs(source="s.toml", jobs=[SECRET_JOB])
    env = {"PGPASSWORD": "s3cret-two", "NEW": "new-one", "SAME": "x"}
    changed = {**SECRET_JOB, "command": "pg_dump postgres://app:url-two@127.0.0.1/app", "stdin": "stdin-two",
               "args": {"password": "arg-two", "level": 2}, "env": env}  # fmt: skip
    dry = service.apply_jobs(source="s.toml", jobs=[changed], dry_run=True)
    assert dry["updated"] == [{"name": "dump", "changes": {
        "command": ["pg_dump postgres://app:***@127.0.0.1/app"] * 2,
        "args": [{"level": 1, "password": "***"}, {"level": 2, "password": "***"}],
        "stdin": ["***", "***"],
        "env.NEW": [None, "***"],
        "env.OLD": ["***", None],
        "env.PGPASSWORD": ["***", "***"],
    }}]  # fmt: skip
    done = service.apply_jobs(source="s.toml", jobs=[changed])
    assert done == dry
    shown = json.dumps(done)
    assert not [word for word in ("one", "two") if word in shown], shown
    job = service.get_job(service.resolve_job("dump"))
    assert (job["environment"], job["stdin"], job["taskArgs"]) == (
        env,
        "stdin-two",
        {"command": changed["command"], "password": "arg-two", "level": 2},
    )
    without = {**changed, "env": {}}
    del without["stdin"]
    unset = service.apply_jobs(source="s.toml", jobs=[without])
    assert unset["updated"][0]["changes"] == {
        "stdin": ["***", None], "env.NEW": ["***", None], "env.PGPASSWORD": ["***", None], "env.SAME": ["***", None]
    }  # fmt: skip


def _fail_twice(store: Store, service: Service, job_id: str) -> None:
    """Two failed final outcomes of the job, recorded as the daemon's recorder records them."""
    from datetime import UTC, datetime, timedelta

    from jobctl.config import config_from_dict
    from jobctl.service.notifications import FinishedAttempt, outcome_effects
    from jobctl.store.executions import FinishedRun

    for _ in range(2):
        execution_id = service.trigger_job(job_id)["executionId"]
        started = datetime.now(UTC)
        assert store.executions.mark_running(execution_id, instance_id="test", started_at=started)
        claimed = store.executions.get(execution_id)
        assert claimed is not None
        run = FinishedRun(execution_id=execution_id, status="failed", started_at=started,
                          completed_at=started + timedelta(milliseconds=5), duration_seconds=0.005, result=None,
                          error_message="exit code 1")  # fmt: skip
        with store.transaction():
            store.executions.finish_runs([run])
            outcome_effects(store, config_from_dict({}).notify, [FinishedAttempt(claimed=claimed, run=run, final=True)])


PAUSABLE: list[dict[str, Any]] = [
    {"name": "sync", "every": "1h", "command": "exit 1", "pause_after_failures": 2},
    {"name": "report", "every": "1h", "command": "true"},
]


def test_a_table_without_paused_keeps_the_pause_and_the_plan_says_so(service: Service, store: Store) -> None:
    """The auto-pause and an operator's pause survive a re-apply of the unchanged file (nothing
    written, who, when and why kept), and an update of another key; ``paused`` written in the
    file still sets it, both ways."""
    service.apply_jobs(source="p.toml", jobs=PAUSABLE)
    _fail_twice(store, service, service.resolve_job("sync"))
    report_id = service.resolve_job("report")
    service.set_job_status(report_id, {"isPaused": True, "reason": "disk swap until Friday"})
    before = {name: service.get_job(service.resolve_job(name)) for name in ("sync", "report")}
    assert before["sync"]["isPaused"] and before["sync"]["pausedBy"] == "jobctl"

    writes = write_counter(store)
    plan = service.apply_jobs(source="p.toml", jobs=PAUSABLE)
    assert writes() == 0
    assert plan == {
        "created": [], "updated": [], "deleted": [], "unchanged": 2,
        "staysPaused": [
            {"name": name, "pausedBy": before[name]["pausedBy"], "pausedAt": before[name]["pausedAt"],
             "pausedReason": before[name]["pausedReason"]}
            for name in ("sync", "report")
        ],
    }  # fmt: skip
    assert before["report"]["pausedBy"] == "tester" and before["report"]["pausedReason"] == "disk swap until Friday"
    assert {name: service.get_job(service.resolve_job(name)) for name in before} == before

    changed = service.apply_jobs(source="p.toml", jobs=[PAUSABLE[0], {**PAUSABLE[1], "command": "true 2"}])
    assert changed["updated"] == [{"name": "report", "changes": {"command": ["true", "true 2"]}}]
    report = service.get_job(report_id)
    assert (report["isPaused"], report["pausedReason"], report["nextRunTime"]) == (True, "disk swap until Friday", None)

    later = {**PAUSABLE[1], "command": "true 2"}
    resumed = service.apply_jobs(source="p.toml", jobs=[{**PAUSABLE[0], "paused": False}, later])
    assert resumed["updated"] == [{"name": "sync", "changes": {"paused": [True, False]}}]
    assert [job["name"] for job in resumed["staysPaused"]] == ["report"]
    sync = service.get_job(service.resolve_job("sync"))
    assert (sync["isPaused"], sync["pausedBy"], sync["nextRunTime"] is not None) == (False, None, True)
    paused = service.apply_jobs(source="p.toml", jobs=[{**PAUSABLE[0], "paused": True}, later])
    assert paused["updated"] == [{"name": "sync", "changes": {"paused": [False, True]}}]
    assert service.get_job(service.resolve_job("sync"))["isPaused"] is True


def test_a_job_created_from_a_table_without_paused_is_not_paused(service: Service) -> None:
    plan = service.apply_jobs(source="p.toml", jobs=PAUSABLE)
    assert (plan["created"], plan["staysPaused"]) == (["sync", "report"], [])
    assert [service.get_job(service.resolve_job(t["name"]))["isPaused"] for t in PAUSABLE] == [False, False]


def test_an_empty_file_is_not_applied_with_prune_unless_allowed(service: Service, store: Store) -> None:
    """A file of no jobs (a failed render, a truncated copy) with prune would delete every job
    of its source: refused, the dry run too, at ``["body", "jobs"]``, until allowed."""
    from jobctl.wire.job_tables import NO_JOBS

    service.apply_jobs(source="a.toml", jobs=JOBS)
    service.apply_jobs(source="b.toml", jobs=[{**PAUSABLE[1], "name": "other"}])
    writes = write_counter(store)
    for dry_run in (True, False):
        with pytest.raises(ValidationFailed) as caught:
            service.apply_jobs(source="a.toml", jobs=[], prune=True, dry_run=dry_run)
        assert caught.value.errors == [{
            "loc": ["body", "jobs"], "type": NO_JOBS,
            "msg": "the file declares no jobs, and prune would delete all 3 jobs of source 'a.toml'; nothing was"
                   " applied (send allowEmpty: true to delete them)",
        }]  # fmt: skip
    assert writes() == 0
    assert service.apply_jobs(source="a.toml", jobs=[]) == {
        "created": [],
        "updated": [],
        "deleted": [],
        "unchanged": 0,
        "staysPaused": [],
    }  # without prune an empty file changes nothing, as ever
    assert service.apply_jobs(source="c.toml", jobs=[], prune=True)["deleted"] == []  # nothing to lose: no refusal
    assert service.list_jobs()["total"] == 4
    plan = service.apply_jobs(source="a.toml", jobs=[], prune=True, allow_empty=True)
    assert plan["deleted"] == ["backup", "ping", "report"]
    assert [job["name"] for job in service.list_jobs()["jobs"]] == ["other"]
    with pytest.raises(ValidationFailed, match=r"delete the 1 job of source 'b.toml'; .* to delete it\)"):
        service.apply_jobs(source="b.toml", jobs=[], prune=True)
