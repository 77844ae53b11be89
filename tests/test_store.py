"""The store on real SQLite files and real Postgres schemas: files, pragmas, records, leases, concurrency."""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jobctl.errors import Conflict, StoreError
from jobctl.models import ExecutionStatus, JobSettings, MisfirePolicy, TriggeredBy
from jobctl.service import Service
from jobctl.store import JobFilter, Store, open_store
from jobctl.store import executions as executions_module
from jobctl.store.writes import NO_NEXT_SLOT, JobChanges, NewExecution, NewJob

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
SHELL_ID = 1


def job_values(name: str, **overrides: Any) -> NewJob:
    """A plain interval job running the built-in shell task function, without a next slot."""
    settings: dict[str, Any] = {
        "name": name, "description": None, "task_function_id": SHELL_ID, "job_type_id": 1,
        "schedule_config": {"minutes": 5}, "task_args": {"command": "true"}, "max_instances": 1,
        "timeout_seconds": None, "retry_count": 0, "retry_delay_seconds": 60, "is_enabled": True, "is_paused": False,
        "misfire_policy": MisfirePolicy.RUN_ONCE, **overrides,
    }  # fmt: skip
    return NewJob(settings=JobSettings(**settings), next=NO_NEXT_SLOT, created_at=datetime.now(UTC), created_by=None)


def execution_values(job_id: str, **overrides: Any) -> NewExecution:
    fields: dict[str, Any] = {
        "job_id": job_id, "status": ExecutionStatus.PENDING, "triggered_by": TriggeredBy.SCHEDULER,
        "created_at": datetime.now(UTC), **overrides,
    }  # fmt: skip
    fields["status"] = ExecutionStatus(fields["status"])
    fields["triggered_by"] = TriggeredBy(fields["triggered_by"])
    return NewExecution(**fields)


def create_body(name: str) -> dict[str, Any]:
    return {"name": name, "taskFunctionId": SHELL_ID, "jobTypeId": 1, "scheduleConfig": {"minutes": 5},
            "taskArgs": {"command": "true"}}  # fmt: skip


def job_count(store: Store) -> int:
    return int(store.db.scalar("SELECT COUNT(*) FROM jobs"))


# -- SQLite file ---------------------------------------------------------------------------


def test_sqlite_store_file_is_0600_in_a_0700_folder(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "data" / "jobctl.db"
    store = open_store(f"sqlite:///{path}")
    try:
        store.jobs.insert(job_values("one"))
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        for sidecar in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if sidecar.exists():
                assert stat.S_IMODE(sidecar.stat().st_mode) == 0o600, sidecar
    finally:
        store.close()


def test_sqlite_store_uses_wal_and_foreign_keys_on_every_connection(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    try:
        assert store.db.scalar("PRAGMA journal_mode") == "wal"
        assert store.db.scalar("PRAGMA foreign_keys") == 1
        seen: dict[str, Any] = {}

        def other_thread() -> None:
            seen["journal"] = store.db.scalar("PRAGMA journal_mode")
            seen["fk"] = store.db.scalar("PRAGMA foreign_keys")

        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        assert seen == {"journal": "wal", "fk": 1}
    finally:
        store.close()


def test_foreign_keys_are_enforced_and_deleting_a_job_deletes_its_executions(store: Store) -> None:
    with pytest.raises(StoreError):
        store.executions.insert(execution_values(str(uuid.uuid4())))
    job = store.jobs.insert(job_values("parent"))
    execution = store.executions.insert(execution_values(job.id))
    assert execution is not None
    store.executions.append_output(execution.id, 0, "hello")
    assert store.jobs.delete(job.id)
    assert store.executions.get(execution.id) is None
    assert store.db.scalar("SELECT COUNT(*) FROM execution_output") == 0


# -- jobs ----------------------------------------------------------------------------------


def test_job_insert_get_list_and_duplicate_name(store: Store) -> None:
    inserted = store.jobs.insert(job_values("backup", task_args={"command": "tar czf /b.tgz /etc", "n": 3}))
    assert store.jobs.get(inserted.id) == inserted
    assert store.jobs.get_by_name("backup") == inserted
    assert inserted.task_args == {"command": "tar czf /b.tgz /etc", "n": 3}
    assert inserted.schedule_config == {"minutes": 5}
    assert (inserted.is_enabled, inserted.is_paused, inserted.max_instances) == (True, False, 1)
    assert inserted.created_at.tzinfo is not None
    assert store.jobs.get(str(uuid.uuid4())) is None
    with pytest.raises(Conflict):
        store.jobs.insert(job_values("backup"))
    assert job_count(store) == 1
    second = store.jobs.insert(job_values("second"))
    listed = store.jobs.list(JobFilter(), limit=10, offset=0)
    assert [job.id for job in listed] == [inserted.id, second.id]
    assert [job.id for job in store.jobs.list(JobFilter(), limit=1, offset=1)] == [second.id]


def test_job_records_carry_enums(store: Store) -> None:
    job = store.jobs.insert(job_values("enums", misfire_policy=MisfirePolicy.SKIP))
    store.executions.insert(execution_values(job.id, status="running"))
    stored = store.jobs.get(job.id)
    assert stored is not None and type(stored.misfire_policy) is MisfirePolicy and stored.misfire_policy == "skip"
    [execution], _ = store.executions.list(job_id=job.id, status=None, limit=1, offset=0)
    assert type(execution.status) is ExecutionStatus and type(execution.triggered_by) is TriggeredBy


def test_job_changes_write_only_the_changed_settings(store: Store) -> None:
    job = store.jobs.insert(job_values("changed"))
    store.db.execute("UPDATE jobs SET is_enabled = :no WHERE id = :id", {"no": False, "id": job.id})  # meanwhile
    later = job.created_at + timedelta(minutes=1)
    changes = JobChanges(
        settings=dataclasses.replace(job, retry_count=3), changed=frozenset({"retry_count"}), next=None,
        updated_at=later, updated_by="someone",
    )  # fmt: skip
    assert store.jobs.update(job.id, changes)
    stored = store.jobs.get(job.id)
    assert stored is not None
    assert (stored.retry_count, stored.is_enabled, stored.updated_by, stored.updated_at) == (3, False, "someone", later)
    with pytest.raises(ValueError, match="next_slot"):
        JobChanges(settings=job, changed=frozenset({"next_slot"}), next=None, updated_at=later, updated_by=None)


def test_new_executions_are_returned_as_stored(store: Store) -> None:
    job = store.jobs.insert(job_values("built"))
    first = NewExecution.for_slot(job, T0, now=T0, start_at=T0, instance_id="i-1")
    inserted = store.executions.insert(first)
    retry = NewExecution.retry_of(inserted, now=T0, run_after=T0 + timedelta(seconds=60))  # type: ignore[arg-type]
    built = [
        first,
        NewExecution.skipped_slot(job, T0 + timedelta(minutes=5), now=T0, reason="busy"),
        NewExecution.manual(job, now=T0, user_id="ops", celery_task_id=None),
        retry,
    ]
    for new in built[1:]:
        assert store.executions.insert(new) is not None
    stored = {e.id: e for e in store.executions.list(job_id=job.id, status=None, limit=10, offset=0)[0]}
    assert inserted == stored[first.id]
    summary = [(stored[n.id].status, stored[n.id].triggered_by, stored[n.id].attempt) for n in built]
    assert summary == [("running", "scheduler", 1), ("skipped", "scheduler", 1), ("pending", "manual", 1),
                       ("pending", "retry", 2)]  # fmt: skip
    assert (stored[retry.id].scheduled_for, stored[retry.id].run_after) == (T0, T0 + timedelta(seconds=60))
    assert store.executions.insert_many([]) == []


def test_job_counts_add_up_and_count_jobs_with_a_running_execution(store: Store) -> None:
    busy = store.jobs.insert(job_values("busy"))
    pending_only = store.jobs.insert(job_values("pending-only"))
    store.jobs.insert(job_values("off", is_enabled=False))
    store.jobs.insert(job_values("off-running", is_enabled=False))
    off_running = store.jobs.get_by_name("off-running")
    assert off_running is not None
    for _ in range(2):  # two running executions of one job count once
        store.executions.insert(execution_values(busy.id, status="running"))
    store.executions.insert(execution_values(pending_only.id, status="pending"))
    store.executions.insert(execution_values(off_running.id, status="running"))

    counts = store.jobs.counts(JobFilter())
    assert (counts.total, counts.enabled, counts.disabled, counts.running) == (4, 2, 2, 2)
    enabled = store.jobs.counts(JobFilter(is_enabled=True))
    assert (enabled.total, enabled.enabled, enabled.disabled, enabled.running) == (2, 2, 0, 1)
    named = store.jobs.counts(JobFilter(name="OFF"))
    assert (named.total, named.enabled, named.disabled, named.running) == (2, 0, 2, 1)
    for filters in (JobFilter(), JobFilter(is_enabled=False), JobFilter(name="b"), JobFilter(task_function_id=99)):
        c = store.jobs.counts(filters)
        assert c.enabled + c.disabled == c.total == len(store.jobs.list(filters, limit=100, offset=0))


NAME_FILTER_CASES = [
    ("backup", ["Backup_Daily", "backup%weekly", "BACKUPXDAILY"]),  # case-insensitive
    ("BACKUP_", ["Backup_Daily"]),  # "_" is literal, not any character
    ("p%", ["backup%weekly"]),  # "%" is literal
    ("_", ["Backup_Daily"]),
    ("%", ["backup%weekly"]),
    ("\\", ["back\\slash"]),  # the escape character itself is literal too
    ("x", ["BACKUPXDAILY"]),  # substring anywhere
    ("nothing", []),
]


def test_name_filter_is_a_case_insensitive_literal_substring(store: Store) -> None:
    for name in ("Backup_Daily", "backup%weekly", "BACKUPXDAILY", "back\\slash", "other"):
        store.jobs.insert(job_values(name))
    for needle, expected in NAME_FILTER_CASES:
        found = sorted(job.name for job in store.jobs.list(JobFilter(name=needle), limit=100, offset=0))
        assert found == sorted(expected), needle
        assert store.jobs.counts(JobFilter(name=needle)).total == len(expected), needle


# -- executions ----------------------------------------------------------------------------


def test_execution_slot_and_attempt_are_unique(store: Store) -> None:
    job = store.jobs.insert(job_values("slotted"))
    first = store.executions.insert(execution_values(job.id, scheduled_for=T0))
    assert first is not None and first.scheduled_for == T0
    assert store.executions.insert(execution_values(job.id, scheduled_for=T0)) is None
    assert store.executions.insert(execution_values(job.id, scheduled_for=T0, attempt=2)) is not None
    assert store.executions.insert(execution_values(job.id, scheduled_for=T0 + timedelta(minutes=5))) is not None
    other = store.jobs.insert(job_values("other"))
    assert store.executions.insert(execution_values(other.id, scheduled_for=T0)) is not None
    # manual runs have no slot: any number of them
    assert store.executions.insert(execution_values(job.id, triggered_by="manual")) is not None
    assert store.executions.insert(execution_values(job.id, triggered_by="manual")) is not None
    _, total = store.executions.list(job_id=job.id, status=None, limit=100, offset=0)
    assert total == 5
    # the rejected insert left the connection usable for a transaction
    with store.transaction():
        assert store.executions.insert(execution_values(job.id, scheduled_for=T0)) is None
        store.jobs.insert(job_values("after-duplicate"))
    assert store.jobs.get_by_name("after-duplicate") is not None


def test_executions_are_listed_newest_first(store: Store) -> None:
    job = store.jobs.insert(job_values("history"))
    ids = [store.executions.insert(execution_values(job.id, created_at=T0 + timedelta(seconds=n))).id  # type: ignore[union-attr]
           for n in range(5)]  # fmt: skip
    listed, total = store.executions.list(job_id=job.id, status=None, limit=3, offset=0)
    assert total == 5
    assert [e.id for e in listed] == ids[::-1][:3]


def test_output_append_and_read_with_offsets(store: Store) -> None:
    job = store.jobs.insert(job_values("chatty"))
    execution = store.executions.insert(execution_values(job.id))
    assert execution is not None
    assert store.executions.read_output(execution.id, 0) == ("", 0)
    store.executions.append_output(execution.id, 0, "hello ")
    store.executions.append_output(execution.id, 6, "wörld\n")
    assert store.executions.read_output(execution.id, 0) == ("hello wörld\n", 12)
    assert store.executions.read_output(execution.id, 3) == ("lo wörld\n", 12)
    assert store.executions.read_output(execution.id, 6) == ("wörld\n", 12)
    assert store.executions.read_output(execution.id, 12) == ("", 12)
    assert store.executions.read_output(execution.id, 0, max_chars=7) == ("hello ", 6)
    assert store.executions.output_tail(execution.id, 4) == "rld\n"


def test_output_keeps_only_the_tail(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executions_module, "OUTPUT_LIMIT_CHARS", 10)
    job = store.jobs.insert(job_values("flood"))
    execution = store.executions.insert(execution_values(job.id))
    assert execution is not None
    offset = 0
    for chunk in ("aaaa", "bbbb", "cccc", "dddd"):
        store.executions.append_output(execution.id, offset, chunk)
        offset += len(chunk)
    # exactly the last 10 characters are read; "bbbb" (4..8) is kept as it holds 2 of them
    data, end = store.executions.read_output(execution.id, 0)
    assert (data, end) == ("bbccccdddd", 16)
    assert store.executions.read_output(execution.id, 9) == ("cccdddd", 16)
    kept = store.db.scalar("SELECT COUNT(*) FROM execution_output WHERE execution_id = :id", {"id": execution.id})
    assert kept == 3


# -- lease ---------------------------------------------------------------------------------


def test_lease_acquire_renew_expire_and_release(store: Store) -> None:
    """Expiry is judged by the store's clock when the row is written (same host here, so the
    caller's clock brackets it)."""
    cluster, ttl, brief = store.cluster, timedelta(seconds=60), timedelta(seconds=0.3)
    assert cluster.lease().holder_id is None
    before = datetime.now(UTC)
    first = cluster.acquire_or_renew_lease("a", ttl)
    after = datetime.now(UTC)
    assert first is not None and (first.holder_id, first.term) == ("a", 1)
    assert first.expires_at is not None and before + ttl <= first.expires_at <= after + ttl
    assert cluster.acquire_or_renew_lease("b", ttl) is None
    renewed = cluster.acquire_or_renew_lease("a", ttl)
    assert renewed is not None and renewed.expires_at is not None
    assert (renewed.holder_id, renewed.term, renewed.acquired_at) == ("a", 1, first.acquired_at)
    assert renewed.expires_at > first.expires_at
    with store.transaction():
        assert cluster.holds_lease("a", 1, for_at_least=timedelta(seconds=50))
        assert not cluster.holds_lease("a", 1, for_at_least=timedelta(seconds=61)), "less than that is left"
        assert not cluster.holds_lease("a", 2, for_at_least=timedelta(0))
        assert not cluster.holds_lease("b", 1, for_at_least=timedelta(0))

    assert cluster.acquire_or_renew_lease("a", brief) is not None
    assert cluster.acquire_or_renew_lease("b", ttl) is None, "taken over before it expired"
    time.sleep(brief.total_seconds() + 0.1)
    with store.transaction():
        assert not cluster.holds_lease("a", 1, for_at_least=timedelta(0)), "expired"
    taken = cluster.acquire_or_renew_lease("b", ttl)
    assert taken is not None and (taken.holder_id, taken.term) == ("b", 2)
    assert cluster.acquire_or_renew_lease("a", ttl) is None
    with store.transaction():
        assert not cluster.holds_lease("a", 1, for_at_least=timedelta(0))
        assert cluster.holds_lease("b", 2, for_at_least=timedelta(0))

    cluster.release_lease("a")  # not the holder: no effect
    assert cluster.lease().holder_id == "b"
    cluster.release_lease("b")
    assert cluster.lease().holder_id is None
    again = cluster.acquire_or_renew_lease("a", ttl)
    assert again is not None and (again.holder_id, again.term) == ("a", 3)


def test_takeover_does_not_wait_for_a_claim_transaction(pg_url: str) -> None:
    """A leader's claim transaction left open (the process frozen inside it) does not lock the
    lease row: another instance takes the expired lease over at once instead of waiting until
    the server ends the frozen session. The claim's own final check then fails, so it cannot
    commit on a lease someone else now holds."""
    leader, standby = open_store(pg_url), open_store(pg_url)
    try:
        assert leader.cluster.acquire_or_renew_lease("old", timedelta(seconds=0.5)) is not None
        with leader.transaction():
            assert leader.cluster.holds_lease("old", 1, for_at_least=timedelta(0))  # what a claim does first
            time.sleep(0.6)  # frozen mid-claim; the lease expires meanwhile
            started = time.monotonic()
            taken = standby.cluster.acquire_or_renew_lease("new", timedelta(seconds=15))
            waited = time.monotonic() - started
            assert taken is not None and (taken.holder_id, taken.term) == ("new", 2)
            assert waited < 0.5, f"the takeover waited {waited:.2f}s for the open claim"
            assert not leader.cluster.holds_lease("old", 1, for_at_least=timedelta(0))
    finally:
        leader.close()
        standby.close()


def test_only_one_of_many_threads_takes_a_free_lease(store: Store) -> None:
    barrier = threading.Barrier(6)
    won: list[str] = []
    errors: list[BaseException] = []

    def contender(name: str) -> None:
        try:
            barrier.wait()
            if store.cluster.acquire_or_renew_lease(name, timedelta(seconds=15)) is not None:
                won.append(name)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=contender, args=(f"i{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(won) == 1
    assert store.cluster.lease().holder_id == won[0]


# -- concurrent writers --------------------------------------------------------------------


def test_concurrent_threads_create_jobs_without_losing_a_write(store: Store, service: Service) -> None:
    threads_n, per_thread = 6, 8
    generation_before = store.cluster.generation()
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for k in range(per_thread):
                service.create_job(create_body(f"t{n}-{k}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert job_count(store) == threads_n * per_thread
    assert store.cluster.generation() - generation_before == threads_n * per_thread


WRITER_SCRIPT = """
import sys
from jobctl.models import Caller, Role
from jobctl.service import Service
from jobctl.store import open_store
url, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = open_store(url)
service = Service(store, Caller(user_id=prefix, role=Role.ADMIN), default_timezone="UTC")
for k in range(count):
    service.create_job({"name": f"{prefix}-{k}", "taskFunctionId": 1, "jobTypeId": 1,
                        "scheduleConfig": {"seconds": 30}, "taskArgs": {"command": "true"}})
store.close()
"""


def test_concurrent_processes_create_and_migrate_one_store_without_losing_a_write(empty_store_url: str) -> None:
    """Several processes open a brand-new store at once (racing to create it) and write to it."""
    store_url = empty_store_url
    procs_n, per_proc = 4, 10
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT, store_url, f"p{n}", str(per_proc)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(procs_n)
    ]  # fmt: skip
    outcomes = [(proc.wait(timeout=60), *proc.communicate()) for proc in procs]
    assert [(code, err) for code, _, err in outcomes] == [(0, "")] * procs_n
    store = open_store(store_url)
    try:
        names = {job.name for job in store.jobs.list(JobFilter(), limit=100, offset=0)}
        assert names == {f"p{n}-{k}" for n in range(procs_n) for k in range(per_proc)}
        assert store.cluster.generation() == procs_n * per_proc
        assert store.db.scalar("SELECT COUNT(*) FROM task_functions WHERE name = 'shell'") == 1
        assert store.db.scalar("SELECT COUNT(*) FROM job_types") == 3
    finally:
        store.close()
    if store_url.startswith("sqlite"):
        path = Path(store_url.removeprefix("sqlite:///"))
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
