"""Overlap policies and concurrency groups, decided by ``Scheduler.tick(now)`` on a real store
(SQLite file, Postgres) with a fake clock. Runs are records here: a test ends one by writing
its outcome, as the daemon's recorder would. The processes themselves (a queued run starting
after the first ends, a replaced run's process group killed, a group never overlapping) are
checked with real daemons in tests/daemon/test_overlap_daemon.py.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jobctl.models import ConcurrencyGroup, ExecutionStatus
from jobctl.scheduler.admission import start_waiting
from jobctl.scheduler.leadership import Leadership
from jobctl.service import Service
from jobctl.store import Store, open_store
from jobctl.store.executions import StopRequest
from jobctl.store.writes import NewExecution
from tests.conftest import ADMIN, TEST_ZONE
from tests.scheduler.helpers import FakeClock, RecordingLauncher, Rig, S, iso

MINUTE = timedelta(minutes=1)


@pytest.fixture
def rig(store: Store) -> Rig:
    """A leading scheduler whose service accepts the group ``db``, declared with limit 1."""
    store.groups.sync([ConcurrencyGroup(name="db", limit=1)], now=datetime.now(UTC))
    service = Service(store, ADMIN, default_timezone=TEST_ZONE, concurrency_groups={"db"})
    clock = FakeClock(S.replace(hour=11))
    return Rig(store, service, clock, Leadership(store, ttl_seconds=15, clock=clock), RecordingLauncher(clock))


def every_minute(rig: Rig, name: str, *, start: datetime = S, **fields: Any) -> dict[str, Any]:
    return rig.job(name, {"minutes": 1, "start_date": iso(start)}, **fields)


def end(rig: Rig, execution_id: str, status: ExecutionStatus = ExecutionStatus.SUCCESS) -> None:
    """Record a run's outcome, as the daemon's recorder does when its process exits."""
    now = rig.clock.now()
    assert rig.store.executions.finish(
        execution_id, status=status.value, started_at=None, completed_at=now, duration_seconds=1.0, result=None,
        error_message=None,
    )  # fmt: skip


def started(rig: Rig) -> list[tuple[str, datetime | None, datetime]]:
    """(job name, slot, moment started) of every run the scheduler started, in order."""
    return [(run.job.name, run.execution.scheduled_for, run.at) for run in rig.launcher.launched]


def shown(rig: Rig, job_id: str) -> list[tuple[str, str | None, str | None]]:
    """(status, pendingReason, errorMessage) of the job's executions, by slot, as the API shows them."""
    return [(e["status"], e["pendingReason"], e["errorMessage"]) for e in rig.runs(job_id)]


def test_skip_stays_the_default_and_records_why(rig: Rig) -> None:
    job = every_minute(rig, "plain")
    assert job["overlapPolicy"] == "skip" and job["maxQueued"] == 1 and job["concurrencyGroup"] is None
    rig.tick(S)
    rig.tick(S + MINUTE)
    [_, skipped] = shown(rig, job["id"])
    assert skipped == ("skipped", None, "skipped: 1 run(s) still active and maxInstances is 1")


def retry_of(rig: Rig, execution_id: str, *, at: datetime) -> str:
    """The waiting retry of a failed run, due ``at``, as the daemon's recorder writes it."""
    failed = rig.store.executions.get(execution_id)
    assert failed is not None
    retry = rig.store.executions.insert(NewExecution.retry_of(failed, now=rig.clock.now(), run_after=at))
    assert retry is not None
    return retry.id


def test_a_skip_says_a_waiting_retry_holds_the_place_not_a_run(rig: Rig) -> None:
    """A waiting retry counts against maxInstances (docs/overlap.md), but nothing runs: the
    reason said "1 run(s) still active" and sent people looking for a process."""
    job = every_minute(rig, "flaky", retryCount=1, retryDelaySeconds=90)
    rig.tick(S)
    [first] = rig.launcher.launched
    rig.at(S + timedelta(seconds=1))
    end(rig, first.execution.id, ExecutionStatus.FAILED)
    retry_of(rig, first.execution.id, at=S + timedelta(seconds=91))
    rig.tick(S + MINUTE)
    assert shown(rig, job["id"])[-1] == (
        "skipped", None, f"skipped: a retry of this job waits (retry at {iso(S + timedelta(seconds=91))}) "
        "and maxInstances is 1",
    )  # fmt: skip


def test_a_skip_names_each_kind_of_what_holds_the_places(rig: Rig) -> None:
    """A run going on, a waiting retry and a manual run waiting for its group's place: all three
    hold one of the three places, and the reason says which."""
    job = rig.job("crowded", {"minutes": 1, "start_date": iso(S + 10 * MINUTE)}, maxInstances=3, concurrencyGroup="db")
    rig.service.trigger_job(job["id"])
    rig.tick(S)
    rig.at(S + timedelta(seconds=1))
    end(rig, rig.launcher.launched[-1].execution.id, ExecutionStatus.FAILED)
    retry_of(rig, rig.launcher.launched[-1].execution.id, at=S + 30 * MINUTE)
    rig.service.trigger_job(job["id"])
    rig.tick(S + timedelta(seconds=2))  # starts: the group has room
    waiting = rig.service.trigger_job(job["id"])["executionId"]
    rig.tick(S + 10 * MINUTE)  # waits for the group; the slot finds the three places taken
    assert rig.service.get_execution(waiting)["pendingReason"] == "group db full"
    assert [e["status"] for e in rig.runs(job["id"])][-1] == "skipped"
    assert shown(rig, job["id"])[-1][2] == (
        f"skipped: 1 run(s) still active, a retry of this job waits (retry at {iso(S + 30 * MINUTE)}), "
        "a manual run waits to start and maxInstances is 3"
    )


def test_queue_waits_behind_the_run_keeps_at_most_max_queued_and_starts_when_the_run_ends(rig: Rig) -> None:
    job = every_minute(rig, "queued", overlapPolicy="queue")
    rig.tick(S)
    [first] = rig.launcher.launched
    rig.tick(S + MINUTE)
    rig.tick(S + 2 * MINUTE)
    assert shown(rig, job["id"]) == [
        ("running", None, None),
        ("pending", f"queued behind {first.execution.id}", None),
        ("skipped", None, "skipped: 1 slot(s) already queued and maxQueued is 1"),
    ]
    rig.clock.advance(10)
    end(rig, first.execution.id)
    later = rig.clock.now()
    rig.tick(later)
    assert started(rig) == [("queued", S, S), ("queued", S + MINUTE, later)], "the queued slot starts once the run ends"
    assert [e["status"] for e in rig.runs(job["id"])] == ["success", "running", "skipped"]


def test_max_queued_lets_more_slots_wait_and_they_start_in_slot_order(rig: Rig) -> None:
    job = every_minute(rig, "deep", overlapPolicy="queue", maxQueued=2)
    for n in range(4):
        rig.tick(S + n * MINUTE)
    statuses = [e["status"] for e in rig.runs(job["id"])]
    assert statuses == ["running", "pending", "pending", "skipped"]
    for expected_slot in (S + MINUTE, S + 2 * MINUTE):
        end(rig, rig.launcher.launched[-1].execution.id)
        rig.tick(rig.clock.now() + timedelta(seconds=1))
        assert rig.launcher.launched[-1].execution.scheduled_for == expected_slot


def test_replace_asks_the_oldest_run_to_stop_as_cancelled_and_starts_the_slot_after_it(rig: Rig) -> None:
    job = every_minute(rig, "fresh", overlapPolicy="replace")
    rig.tick(S)
    [old] = rig.launcher.launched
    rig.tick(S + MINUTE)
    reason = f"replaced by the slot of {iso(S + MINUTE)}"
    asked = rig.store.executions.running_of_instance(rig.leadership.instance_id)
    assert asked == {old.execution.id: StopRequest(reason, "jobctl")}
    assert shown(rig, job["id"])[1] == ("pending", f"queued behind {old.execution.id}, which it replaces", None)
    rig.tick(S + MINUTE + timedelta(seconds=1))
    assert len(rig.launcher.launched) == 1, "the new slot does not start while the old run still runs"
    end(rig, old.execution.id, ExecutionStatus.CANCELLED)  # what the daemon records once the group is gone
    rig.tick(S + MINUTE + timedelta(seconds=2))
    assert started(rig)[-1] == ("fresh", S + MINUTE, S + MINUTE + timedelta(seconds=2))


def test_replace_cancels_a_slot_still_waiting_for_the_replaced_run(rig: Rig) -> None:
    job = every_minute(rig, "impatient", overlapPolicy="replace")
    rig.tick(S)
    rig.tick(S + MINUTE)
    rig.tick(S + 2 * MINUTE)  # the run ignored the stop so far: the waiting slot is replaced too
    runs = shown(rig, job["id"])
    assert runs[1] == ("cancelled", None, f"replaced by the slot of {iso(S + 2 * MINUTE)}")
    assert runs[2][0] == "pending"


def test_a_group_of_one_runs_one_job_at_a_time_in_slot_order(rig: Rig) -> None:
    first = every_minute(rig, "first", concurrencyGroup="db")
    second = every_minute(rig, "second", start=S + timedelta(seconds=10), concurrencyGroup="db")
    third = every_minute(rig, "third", start=S + timedelta(seconds=20), concurrencyGroup="db")
    rig.tick(S)
    rig.tick(S + timedelta(seconds=10))
    rig.tick(S + timedelta(seconds=20))
    assert started(rig) == [("first", S, S)]
    assert shown(rig, second["id"]) == [("pending", "group db full", None)]
    assert shown(rig, third["id"]) == [("pending", "group db full", None)]
    status = rig.service.get_status()["concurrencyGroups"]
    assert status == [{"name": "db", "limit": 1, "running": 1, "waiting": 2}]

    rig.clock.current = S + timedelta(seconds=30)
    end(rig, rig.launcher.launched[0].execution.id)
    rig.tick(S + timedelta(seconds=30))
    assert started(rig)[-1] == ("second", S + timedelta(seconds=10), S + timedelta(seconds=30)), "oldest slot first"
    assert shown(rig, third["id"]) == [("pending", "group db full", None)]

    rig.tick(S + MINUTE)  # first's next slot: its job has room, its group not
    assert shown(rig, first["id"])[-1] == ("pending", "group db full", None)
    third_next = S + MINUTE + timedelta(seconds=20)
    rig.tick(third_next)  # third's next slot came before its waiting one could run
    assert shown(rig, third["id"]) == [
        ("skipped", None, f"skipped: group db full until the next slot ({iso(third_next)}) came"),
        ("pending", "group db full", None),
    ]
    assert len(rig.launcher.launched) == 2
    running = [e for e in rig.service.list_executions(status="running")["executions"]]
    assert len(running) == 1, "never more than the group's limit"


def test_manual_triggers_and_retries_wait_for_the_group_too(rig: Rig) -> None:
    busy = every_minute(rig, "busy", concurrencyGroup="db")
    manual = rig.job("manual", {"hours": 1, "start_date": iso(S + timedelta(hours=5))}, concurrencyGroup="db")
    rig.tick(S)
    triggered = rig.service.trigger_job(manual["id"])["executionId"]
    rig.tick(S + timedelta(seconds=1))
    assert rig.service.get_execution(triggered)["pendingReason"] == "group db full"
    assert started(rig) == [("busy", S, S)]
    end(rig, rig.launcher.launched[0].execution.id)
    rig.tick(S + timedelta(seconds=2))
    assert rig.launcher.launched[-1].execution.id == triggered
    assert rig.service.get_execution(triggered)["pendingReason"] is None
    assert busy["concurrencyGroup"] == "db"


def test_a_group_no_daemon_declares_holds_its_runs_and_says_so(rig: Rig) -> None:
    job = every_minute(rig, "orphan", concurrencyGroup="db")
    rig.store.groups.sync([], now=datetime.now(UTC))  # the daemons' configs dropped the group
    rig.tick(S)
    assert rig.launcher.launched == []
    [(status, reason, _)] = shown(rig, job["id"])
    assert status == "pending" and reason == "group db is not declared in the daemon's [[concurrency_groups]]"
    assert rig.service.get_status()["concurrencyGroups"] == []


def test_a_raised_limit_lets_the_waiting_start(rig: Rig) -> None:
    every_minute(rig, "a", concurrencyGroup="db")
    every_minute(rig, "b", concurrencyGroup="db")
    rig.tick(S)
    assert len(rig.launcher.launched) == 1
    rig.store.groups.sync([ConcurrencyGroup(name="db", limit=2)], now=datetime.now(UTC))
    rig.tick(S + timedelta(seconds=1))
    assert sorted(name for name, _, _ in started(rig)) == ["a", "b"]


def test_waiting_survives_a_new_leader(rig: Rig, store_url: str) -> None:
    """The waiting slot is a row, not memory: another instance (after a failover) starts it."""
    every_minute(rig, "holder", concurrencyGroup="db")
    waiter = every_minute(rig, "waiter", concurrencyGroup="db")
    rig.tick(S)
    [holder_run] = rig.launcher.launched
    rig.leadership.resign()
    other = open_store(store_url)
    try:
        clock = FakeClock(S + timedelta(seconds=5))
        successor = Rig(other, rig.service, clock, Leadership(other, ttl_seconds=15, clock=clock),
                        RecordingLauncher(clock))  # fmt: skip
        end(successor, holder_run.execution.id)
        successor.tick(S + timedelta(seconds=5))
        assert [(r.job.id, r.execution.scheduled_for) for r in successor.launcher.launched] == [(waiter["id"], S)]
    finally:
        other.close()


def test_two_daemons_starting_waiting_runs_at_once_never_exceed_the_limit(rig: Rig, store_url: str) -> None:
    """The limit is kept by the store: two processes' start transactions race for one place."""
    jobs = [rig.job(f"j{n}", {"hours": 1, "start_date": iso(S + timedelta(hours=5))}, concurrencyGroup="db")
            for n in range(6)]  # fmt: skip
    waiting = [rig.service.trigger_job(job["id"])["executionId"] for job in jobs]
    stores = [open_store(store_url), open_store(store_url)]
    taken: list[str] = []
    barrier = threading.Barrier(2)

    def start_all(store: Store, instance: str, order: int) -> None:
        barrier.wait()
        for job, execution_id in list(zip(jobs, waiting, strict=True))[::order]:  # each from its own end
            execution = store.executions.get(execution_id)
            job_record = store.jobs.get(job["id"])
            assert execution is not None and job_record is not None
            started_one = start_waiting(store, job_record, execution, instance_id=instance, now=rig.clock.now())
            if started_one is not None:
                taken.append(started_one.id)

    try:
        threads = [threading.Thread(target=start_all, args=(s, f"i{n}", 1 - 2 * n)) for n, s in enumerate(stores)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        for opened in stores:
            opened.close()
    assert len(taken) == 1
    assert rig.store.groups.running("db") == 1
    reasons = {rig.service.get_execution(e)["pendingReason"] for e in waiting if e not in taken}
    assert reasons == {"group db full"}


BAD_FIELDS = [
    ({"overlapPolicy": "sometimes"}, ["body", "overlapPolicy"], "must be skip, queue or replace, got 'sometimes'"),
    ({"maxQueued": 0}, ["body", "maxQueued"], "must be 1 or more, got 0"),
    ({"concurrencyGroup": "nope"}, ["body", "concurrencyGroup"], "no concurrency group 'nope'"),
    ({"concurrencyGroup": "has space"}, ["body", "concurrencyGroup"], "must be 1-200 letters, digits, '.', '_' or '-'"),
    ({"overlapPolicy": None}, ["body", "overlapPolicy"], "may not be null"),
]


def test_bad_overlap_and_group_fields_are_422_at_their_loc(rig: Rig) -> None:
    from jobctl.errors import ValidationFailed

    job = every_minute(rig, "target")
    for fields, loc, fragment in BAD_FIELDS:
        with pytest.raises(ValidationFailed) as update:
            rig.service.update_job(job["id"], fields)
        [error] = update.value.errors
        assert error["loc"] == loc and fragment in error["msg"], error
        if fields.get("overlapPolicy", "") is not None:
            with pytest.raises(ValidationFailed) as create:
                every_minute(rig, "new", **fields)
            assert [e["loc"] for e in create.value.errors] == [loc]
    assert rig.service.get_job(job["id"])["overlapPolicy"] == "skip", "nothing changed"


def test_a_jobs_file_sets_overlap_and_group_keys(rig: Rig) -> None:
    table = {"name": "filed", "every": "1m", "command": "true", "overlap": "queue", "max_queued": 2,
             "concurrency_group": "db"}  # fmt: skip
    assert rig.service.apply_jobs(source="jobs.toml", jobs=[table])["created"] == ["filed"]
    job = rig.store.jobs.get_by_name("filed")
    assert job is not None and (job.overlap_policy, job.max_queued, job.concurrency_group) == ("queue", 2, "db")
    assert rig.service.apply_jobs(source="jobs.toml", jobs=[table])["unchanged"] == 1
