"""A job's timeline and the verdict on its latest slot, over a real store (both backends).

History is written as the scheduler writes it (claimed slots finished, a skipped slot, a missed
range) for a job that was created an hour ago; only the creation time and the moment of the
pause are moved back, since the test cannot wait an hour.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jobctl.errors import ValidationFailed
from jobctl.models import Caller, RetentionPolicy, Role
from jobctl.scheduler.leadership import Leadership
from jobctl.service import Service
from jobctl.service.retention import prune_store
from jobctl.store import Store, open_store
from jobctl.store.writes import NewExecution
from tests.conftest import ADMIN, TEST_ZONE, Cli

MINUTE = timedelta(minutes=1)
ZONE = ZoneInfo(TEST_ZONE)
OPS = Caller(user_id="ops-token", role=Role.OPERATOR)


def minutely_job_from(service: Service, store: Store, start: datetime, **fields: Any) -> dict[str, Any]:
    """A job every minute from ``start``, as if created then."""
    job = service.create_job({
        "name": "backup", "taskFunctionId": 1, "jobTypeId": 1, "taskArgs": {"command": "true"},
        "scheduleConfig": {"minutes": 1, "start_date": start.isoformat()}, **fields,
    })  # fmt: skip
    store.db.execute("UPDATE jobs SET created_at = :t WHERE id = :id", {"t": start - MINUTE, "id": job["id"]})
    store.db.execute("UPDATE audit_log SET at = :t WHERE target_id = :id", {"t": start - MINUTE, "id": job["id"]})
    return job


def ran(store: Store, job_id: str, slot: datetime, status: str = "success", late: float = 0.012) -> None:
    job = store.jobs.get(job_id)
    assert job is not None
    started = slot + timedelta(seconds=late)
    row = NewExecution.for_slot(job, slot, now=slot, start_at=started, instance_id="i-1")
    store.executions.insert(row)
    store.executions.finish(row.id, status=status, started_at=started, completed_at=started + timedelta(seconds=1),
                            duration_seconds=1.0, result=None, error_message="exit code 3" if status != "success"
                            else None)  # fmt: skip


def a_minute_with_room(room_seconds: float = 15.0) -> datetime:
    """The current minute, started; if fewer than ``room_seconds`` of it are left, the next one.

    The verdict is about the latest slot of a minutely job, so a test that writes history up to
    this minute and then asks must not straddle the minute's end (on a loaded machine the writes
    alone take seconds)."""
    moment = datetime.now(UTC)
    left = 60 - moment.second - moment.microsecond / 1e6
    if left < room_seconds:
        time.sleep(left + 0.05)
    return datetime.now(UTC).replace(second=0, microsecond=0)


def as_shown(moment: datetime, timeline: Any) -> str:
    """``moment`` as the timeline writes it: in its zone, with the date only when that is not
    the window's last day (so the expectation holds across local midnight)."""
    zone = ZoneInfo(timeline["timezone"])
    local = moment.astimezone(zone)
    last_day = datetime.fromisoformat(timeline["until"].replace("Z", "+00:00")).astimezone(zone).date()
    return f"{local:%H:%M:%S}" if local.date() == last_day else f"{local:%Y-%m-%d %H:%M:%S}"


def test_a_paused_job_names_who_paused_it_and_why(store: Store, service: Service) -> None:
    now = a_minute_with_room()
    start = now - 60 * MINUTE
    job = minutely_job_from(service, store, start)
    for k in range(20):
        ran(store, job["id"], start + k * MINUTE)
    ran(store, job["id"], start + 20 * MINUTE, status="failed")
    job_row = store.jobs.get(job["id"])
    assert job_row is not None
    skipped = NewExecution.skipped_slot(job_row, start + 21 * MINUTE, now=start + 21 * MINUTE,
                                        reason="1 run(s) still active and maxInstances is 1")  # fmt: skip
    missed = NewExecution.missed_range(
        job_row, first=start + 22 * MINUTE, last=start + 29 * MINUTE, count=8, now=start + 30 * MINUTE,
        reason="no daemon was leading from 2026-01-01T00:00:00Z to 2026-01-01T00:10:00Z; caught up",
    )  # fmt: skip
    store.executions.insert_many([skipped, missed])
    ran(store, job["id"], start + 30 * MINUTE, late=480.5)
    paused_at = start + 30 * MINUTE + timedelta(seconds=20)
    Service(store, OPS, default_timezone="UTC").set_job_status(job["id"], {"isPaused": True, "reason": "disk full"})
    store.db.execute(
        "UPDATE audit_log SET at = :t WHERE target_id = :id AND action = 'job.paused'",
        {"t": paused_at, "id": job["id"]},
    )

    timeline = service.get_job_timeline(job["id"], since="2h")
    kinds = [(e["kind"], e["count"]) for e in timeline["events"]]
    assert kinds == [("change", 1), ("runs", 20), ("run", 1), ("skipped", 1), ("missed", 8), ("run", 1),
                     ("change", 1)], timeline["events"]  # fmt: skip
    created, runs, failed, skip, gap, late, pause = timeline["events"]
    assert created["text"] == "created by local:test" or created["text"].startswith("created by ")
    assert runs["status"] == "success" and runs["latenessSeconds"] == 0.012 and "at most 12 ms late" in runs["text"]
    assert failed["text"].endswith("failed: exit code 3")
    assert "maxInstances is 1" in skip["text"]
    assert gap["until"] is not None and gap["text"].startswith("8 slots missed")
    assert "no daemon was leading from" in gap["text"] and "Z" not in gap["text"], "reasons in the job's zone"
    assert late["latenessSeconds"] == 480.5
    assert (pause["action"], pause["actor"], pause["reason"]) == ("job.paused", "ops-token", "disk full")
    assert timeline["nextSlot"] is None
    verdict = timeline["verdict"]
    assert verdict["outcome"] == "not_run"
    assert verdict["text"] == f'not run: paused by ops-token at {as_shown(paused_at, timeline)} with reason "disk full"'
    assert pause["text"] == 'paused by ops-token with reason "disk full"', "a reason in double quotes, as written"
    assert verdict["slot"] is not None and datetime.fromisoformat(verdict["slot"]) == now


def test_a_change_reads_in_the_apis_spelling_and_names_environment_variables(store: Store, service: Service) -> None:
    """Not ``isPaused True -> False``, ``description None -> 'x'``, nor an environment change
    as the same masked map twice (docs/audit-log.md)."""
    job = minutely_job_from(service, store, a_minute_with_room() - 5 * MINUTE, environment={"PGDATABASE": "app"})
    service.update_job(job["id"], {"environment": {"PGDATABASE": "app2", "NEW": "x"}})
    service.update_job(job["id"], {"isPaused": True, "description": "it's \\ nightly", "maxInstances": 2})

    texts = [e["text"] for e in service.get_job_timeline(job["id"], since="1h")["events"] if e["kind"] == "change"]
    me = ADMIN.user_id
    assert texts[1:] == [
        f"updated by {me}: environment: +NEW, PGDATABASE changed",
        f'updated by {me}: description null -> "it\'s \\ nightly"; isPaused false -> true; maxInstances 1 -> 2',
    ], texts


def test_a_resume_by_an_update_ends_the_pause_the_verdict_sees(store: Store, service: Service) -> None:
    """An update (or an apply) that sets isPaused is a ``job.updated`` entry, not ``job.resumed``:
    the verdict on a slot after it must not blame the pause it ended."""
    now = a_minute_with_room()
    job = minutely_job_from(service, store, now - 10 * MINUTE)
    Service(store, OPS, default_timezone="UTC").set_job_status(job["id"], {"isPaused": True, "reason": "disk full"})
    service.update_job(job["id"], {"isPaused": False})
    for action, at in (("job.paused", now - 6 * MINUTE), ("job.updated", now - 3 * MINUTE)):
        store.db.execute("UPDATE audit_log SET at = :t WHERE target_id = :id AND action = :action",
                         {"t": at, "id": job["id"], "action": action})  # fmt: skip

    verdict = service.get_job_timeline(job["id"], since="1h")["verdict"]
    assert "paused" not in verdict["text"], verdict
    service.update_job(job["id"], {"isPaused": True})
    store.db.execute("UPDATE audit_log SET at = :t WHERE id = (SELECT MAX(id) FROM audit_log)", {"t": now - MINUTE})
    verdict = service.get_job_timeline(job["id"], since="1h")["verdict"]
    assert verdict["text"].startswith(f"not run: paused by {ADMIN.user_id} at "), verdict


def test_a_skipped_slot_says_skipped_once(store: Store, service: Service) -> None:
    """The stored reason of a skipped slot begins "skipped: " (the API's errorMessage); the
    timeline's own "skipped" is not doubled by it, alone or grouped."""
    start = a_minute_with_room() - 10 * MINUTE
    job = minutely_job_from(service, store, start, maxInstances=1)
    job_row = store.jobs.get(job["id"])
    assert job_row is not None
    busy = "1 run(s) still active and maxInstances is 1"
    ran(store, job["id"], start)
    store.executions.insert(NewExecution.skipped_slot(job_row, start + MINUTE, now=start + MINUTE, reason=busy))
    ran(store, job["id"], start + 2 * MINUTE)
    for k in (3, 4):
        store.executions.insert(NewExecution.skipped_slot(job_row, start + k * MINUTE, now=start, reason=busy))
    timeline = service.get_job_timeline(job["id"], since="2h")
    skips = [e for e in timeline["events"] if e["kind"] == "skipped"]
    at = [as_shown(start + k * MINUTE, timeline) for k in (1, 3, 4)]
    assert [e["text"] for e in skips] == [
        f"slot {at[0]} skipped: {busy}",
        f"2 slots skipped, {at[1]} to {at[2]}: {busy}",
    ]


@pytest.mark.parametrize(
    ("outcome", "verdict"),
    [("success", "ran at {t}.012, success"), ("failed", "ran at {t}.012, failed: exit code 3"),
     ("missed", "not run: no daemon was leading from {g0} to {g1}; misfire policy skip")],
    ids=["success", "failure", "missed"],
)  # fmt: skip
def test_the_verdict_names_the_outcome_of_the_latest_slot(
    store: Store, service: Service, outcome: str, verdict: str
) -> None:
    now = a_minute_with_room()
    start = now - 10 * MINUTE
    job = minutely_job_from(service, store, start)
    if outcome == "missed":
        job_row = store.jobs.get(job["id"])
        assert job_row is not None
        gap = (start - MINUTE, now + timedelta(seconds=1))
        iso = "%Y-%m-%dT%H:%M:%SZ"
        reason = f"no daemon was leading from {gap[0]:{iso}} to {gap[1]:{iso}}; misfire policy skip"
        store.executions.insert(
            NewExecution.missed_range(job_row, first=start, last=now, count=11, now=now, reason=reason)
        )
    else:
        ran(store, job["id"], now, status=outcome)
    timeline = service.get_job_timeline(job["id"], since="1h", until="now")
    if outcome == "missed":
        expected = verdict.format(g0=as_shown(gap[0], timeline), g1=as_shown(gap[1], timeline))
    else:
        expected = verdict.format(t=as_shown(now, timeline))
    assert timeline["timezone"] == TEST_ZONE
    assert timeline["verdict"]["text"] == expected
    assert timeline["verdict"]["outcome"] == ("not_run" if outcome == "missed" else "ran")


def test_a_slot_nobody_claimed_yet_is_due_and_says_whether_a_daemon_leads(store: Store, service: Service) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    job = minutely_job_from(service, store, now - 5 * MINUTE)
    store.db.execute("UPDATE jobs SET next_slot = :s, next_run_time = :s WHERE id = :id",
                     {"s": now - 2 * MINUTE, "id": job["id"]})  # fmt: skip
    timeline = service.get_job_timeline(job["id"])
    verdict = timeline["verdict"]
    later = as_shown(now, timeline)
    assert (verdict["outcome"], verdict["text"]) == (
        "due",
        f"not run yet: no daemon is leading, so the slot and 2 later ones (to {later}) still wait",
    )
    assert verdict["slot"] == timeline["nextSlot"] == _iso(now - 2 * MINUTE), "the slot that waits, in both lines"
    assert re.fullmatch(r"overdue by 2m(\d+s)?: no daemon is leading", timeline["nextSlotOverdue"] or ""), timeline

    leader = Leadership(store, ttl_seconds=15)
    leader.register()
    assert leader.beat()
    timeline = service.get_job_timeline(job["id"])
    assert (
        timeline["verdict"]["text"]
        == f"due, not started yet: the slot and 2 later ones (to {later}) wait to be claimed"
    )
    assert (timeline["nextSlotOverdue"] or "").endswith(": the leading daemon has not claimed it yet"), timeline
    leader.resign()


def test_why_marks_a_past_next_slot_overdue_and_its_verdict_is_about_that_slot(store: Store, cli: Cli) -> None:
    """``jobs why`` with no daemon leading: the next slot, already past, is marked overdue, and the
    verdict is about that slot, not a later one the job has not reached."""
    service = Service(store, ADMIN, default_timezone=TEST_ZONE)
    now = datetime.now(UTC).replace(microsecond=0)
    job = minutely_job_from(service, store, now - 10 * MINUTE)
    store.db.execute("UPDATE jobs SET next_slot = :s, next_run_time = :s WHERE id = :id",
                     {"s": now - 2 * MINUTE, "id": job["id"]})  # fmt: skip
    result = cli("jobs", "why", "backup")
    assert result.code == 0, result.stderr
    *_, next_line, verdict_line = result.stdout.splitlines()
    shown = (now - 2 * MINUTE).astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S")
    assert re.fullmatch(rf"next slot: {shown} \(overdue by 2m(\d+s)?: no daemon is leading\)", next_line), next_line
    assert verdict_line.startswith(f"verdict ({shown} slot): not run yet: no daemon is leading, so the slot"), (
        verdict_line
    )


def test_after_a_schedule_change_the_verdict_is_about_the_slot_of_the_schedule_then(
    store: Store, service: Service
) -> None:
    """A job that ran every 5 seconds and was then changed to once a year: its latest slot is one
    of the old schedule, which ran, not "no slot was due yet"."""
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(minutes=3) - timedelta(seconds=now.second % 5)
    job = service.create_job({
        "name": "fives", "taskFunctionId": 1, "jobTypeId": 2, "taskArgs": {"command": "true"},
        "scheduleConfig": {"expression": "*/5 * * * * *"},
    })  # fmt: skip
    store.db.execute("UPDATE jobs SET created_at = :t WHERE id = :id", {"t": start - MINUTE, "id": job["id"]})
    store.db.execute("UPDATE audit_log SET at = :t WHERE target_id = :id", {"t": start - MINUTE, "id": job["id"]})
    for k in range(4):
        ran(store, job["id"], start + k * timedelta(seconds=5))
    last = start + 15 * timedelta(seconds=1)
    service.update_job(job["id"], {"scheduleConfig": {"expression": "0 0 1 1 *"}})
    changed_at = last + timedelta(seconds=2)
    store.db.execute("UPDATE audit_log SET at = :t WHERE target_id = :id AND action = 'job.updated'",
                     {"t": changed_at, "id": job["id"]})  # fmt: skip

    timeline = service.get_job_timeline(job["id"], since="1h")
    verdict = timeline["verdict"]
    assert verdict["outcome"] == "ran", verdict
    assert verdict["slot"] == _iso(last)
    assert verdict["text"] == (
        f"ran at {as_shown(last, timeline)}.012, success "
        f"(a slot of the schedule before the change at {as_shown(changed_at, timeline)})"
    )


def test_a_window_of_a_month_of_a_minutely_job_answers_in_a_few_lines(store: Store, service: Service) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - 3 * 24 * 60 * MINUTE
    job = minutely_job_from(service, store, start)
    job_row = store.jobs.get(job["id"])
    assert job_row is not None
    rows = [NewExecution.for_slot(job_row, start + k * MINUTE, now=start + k * MINUTE, start_at=start + k * MINUTE,
                                  instance_id="i-1") for k in range(3 * 24 * 60)]  # fmt: skip
    store.executions.insert_many(rows)
    timeline = service.get_job_timeline(job["id"], since="30d")
    assert [(e["kind"], e["count"]) for e in timeline["events"]] == [("change", 1), ("runs", 3 * 24 * 60)]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_slots_whose_runs_keep_per_job_pruned_are_unknown_not_unrun(store: Store, service: Service) -> None:
    """A minutely job ran every slot of half an hour; a real prune with ``keep_per_job = 5`` left
    the last five. A slot before them did run: its verdict is "unknown", and the timeline marks
    where the kept history begins."""
    now = a_minute_with_room()
    start = now - 30 * MINUTE
    job = minutely_job_from(service, store, start)
    for k in range(31):
        ran(store, job["id"], start + k * MINUTE)
    store.db.execute("UPDATE jobs SET next_slot = :s, next_run_time = :s WHERE id = :id",
                     {"s": now + MINUTE, "id": job["id"]})  # fmt: skip  # as the scheduler leaves it
    policy = RetentionPolicy(keep_per_job=5)
    assert prune_store(store, policy, now=datetime.now(UTC)).removed["excessExecutions"] == 26
    kept_from = now - 4 * MINUTE
    retained = Service(store, ADMIN, default_timezone=TEST_ZONE, retention=policy)

    pruned_window = retained.get_job_timeline(
        job["id"], since=_iso(start + 5 * MINUTE), until=_iso(start + 10 * MINUTE)
    )
    [mark] = pruned_window["events"]
    assert (mark["kind"], mark["at"], mark["until"], mark["count"]) == (
        "pruned", _iso(start + 5 * MINUTE), _iso(kept_from), 0
    )  # fmt: skip
    shown = as_shown(kept_from, pruned_window)
    assert mark["text"] == f"runs before {shown} pruned by retention ([history] keep_per_job = 5)"
    assert pruned_window["verdict"] == {
        "slot": _iso(start + 10 * MINUTE),
        "outcome": "pruned",
        "text": "unknown: history pruned by retention ([history] keep_per_job = 5)",
    }

    whole = retained.get_job_timeline(job["id"], since="2h")
    assert [(e["kind"], e["count"]) for e in whole["events"]] == [("change", 1), ("pruned", 0), ("runs", 5)]
    assert whole["events"][1]["at"] == _iso(start) and whole["events"][2]["at"] == _iso(kept_from)
    assert whole["verdict"]["outcome"] == "ran", "the latest slot was kept"

    # With settings under which this job's runs were never retention's to remove, a missing
    # record stays "no record": the span comes from the settings, not from the gap alone.
    keeps_all = Service(store, ADMIN, default_timezone=TEST_ZONE, retention=RetentionPolicy(keep_per_job=1000))
    unpruned = keeps_all.get_job_timeline(job["id"], since=_iso(start + 5 * MINUTE), until=_iso(start + 10 * MINUTE))
    assert unpruned["events"] == []
    assert (unpruned["verdict"]["outcome"], unpruned["verdict"]["text"]) == (
        "not_run",
        "not run: no record of this slot",
    )


def test_slots_older_than_keep_days_are_unknown_and_the_timeline_says_from_when(store: Store, service: Service) -> None:
    """An hourly job ran for three days; a real prune with ``keep_days = 1`` removed the runs of
    all but the last day."""
    now = a_minute_with_room()
    start = now - 72 * 60 * MINUTE
    job = service.create_job({
        "name": "hourly", "taskFunctionId": 1, "jobTypeId": 1, "taskArgs": {"command": "true"},
        "scheduleConfig": {"hours": 1, "start_date": start.isoformat()},
    })  # fmt: skip
    store.db.execute("UPDATE jobs SET created_at = :t, next_slot = :n, next_run_time = :n WHERE id = :id",
                     {"t": start - MINUTE, "n": now + 60 * MINUTE, "id": job["id"]})  # fmt: skip
    store.db.execute("UPDATE audit_log SET at = :t WHERE target_id = :id", {"t": start - MINUTE, "id": job["id"]})
    for k in range(73):
        ran(store, job["id"], start + k * 60 * MINUTE)
    policy = RetentionPolicy(keep_days=1)
    assert prune_store(store, policy, now=datetime.now(UTC)).removed["expiredExecutions"] == 49
    retained = Service(store, ADMIN, default_timezone=TEST_ZONE, retention=policy)

    whole = retained.get_job_timeline(job["id"], since="4d")
    assert [(e["kind"], e["count"]) for e in whole["events"]] == [("change", 1), ("pruned", 0), ("runs", 24)]
    mark = whole["events"][1]
    cutoff = datetime.fromisoformat(mark["until"].replace("Z", "+00:00"))
    assert abs(cutoff - (now - 24 * 60 * MINUTE)) < MINUTE, "kept history begins keep_days ago"
    assert mark["text"] == f"runs before {as_shown(cutoff, whole)} pruned by retention ([history] keep_days = 1)"
    two_days_ago = retained.get_job_timeline(job["id"], since="3d", until="2d")
    assert (two_days_ago["verdict"]["outcome"], two_days_ago["verdict"]["text"]) == (
        "pruned", "unknown: history pruned by retention ([history] keep_days = 1)"
    )  # fmt: skip


def test_a_pause_after_a_pruned_slot_is_not_the_reason_it_did_not_run(store: Store, service: Service) -> None:
    """Retention under smaller settings than those in force (``store prune`` with ``keep_per_job
    = 3``) removed the runs of a slot, and the job was paused later. The audit log holds the
    job's creation and no pause before that slot: "no record of this slot", not "the job was
    paused" (the job's state now), in the verdict and in its outcome."""
    now = a_minute_with_room()
    start = now - 10 * MINUTE
    job = minutely_job_from(service, store, start)
    for k in range(11):
        ran(store, job["id"], start + k * MINUTE)
    assert prune_store(store, RetentionPolicy(keep_per_job=3), now=datetime.now(UTC)).removed["excessExecutions"] == 8
    Service(store, OPS, default_timezone="UTC").set_job_status(job["id"], {"isPaused": True, "reason": "disk full"})

    pruned_slot = start + 2 * MINUTE
    timeline = service.get_job_timeline(job["id"], since="1h", until=_iso(pruned_slot + timedelta(seconds=30)))
    assert timeline["verdict"] == {
        "slot": _iso(pruned_slot), "outcome": "not_run", "text": "not run: no record of this slot"
    }  # fmt: skip
    later = service.get_job_timeline(job["id"], since="1h")["verdict"]
    assert later["outcome"] == "ran", "the kept slots still read as they ran"


def test_where_the_audit_log_was_pruned_the_state_at_a_slot_comes_from_the_change_after_it(
    store: Store, service: Service
) -> None:
    """``audit_keep_days`` removed the job's creation entry: what the job was at an old slot is
    no longer in the log. A pause recorded after the slot says it was not paused then; a job
    paused before the log begins (a resume after the slot, or its state now) was."""
    now = a_minute_with_room()
    start = now - 3 * 24 * 60 * MINUTE
    job = minutely_job_from(service, store, start)  # created three days ago, as its audit entry says
    Service(store, OPS, default_timezone="UTC").set_job_status(job["id"], {"isPaused": True})
    removed = prune_store(store, RetentionPolicy(audit_keep_days=1), now=datetime.now(UTC)).removed
    assert removed["auditEntries"] == 1, "the creation entry went; the pause of now stays"
    old_slot = start + 60 * MINUTE
    window = {"since": _iso(old_slot - MINUTE), "until": _iso(old_slot + timedelta(seconds=30))}

    assert service.get_job_timeline(job["id"], **window)["verdict"]["text"] == "not run: no record of this slot"
    store.db.execute("DELETE FROM audit_log WHERE target_id = :id", {"id": job["id"]})  # paused before the log
    assert service.get_job_timeline(job["id"], **window)["verdict"]["text"] == "not run: the job was paused"


@pytest.fixture(scope="module")
def windowed(module_store_url: str) -> Iterator[tuple[Service, str]]:
    """A service and a job on a store shared by the bad-window cases (they write nothing)."""
    store = open_store(module_store_url)
    service = Service(store, OPS, default_timezone=TEST_ZONE)
    job = Service(store, Caller(user_id="admin", role=Role.ADMIN), default_timezone=TEST_ZONE).create_job(
        {"name": "w", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"minutes": 5},
         "taskArgs": {"command": "true"}}
    )  # fmt: skip
    yield service, job["id"]
    store.close()


@pytest.mark.parametrize(
    ("since", "until", "loc", "fragment"),
    [("1h", "2h", "until", "later than since"), ("now", "now", "until", "later than since"),
     ("367d", None, "since", "366 days"), ("soon", None, "since", "not a time"),
     (None, "2026-02-30T00:00:00Z", "until", "not a time"), ("5x", None, "since", "not a time")],
    ids=["reversed", "empty", "too-long", "word", "no-such-date", "unknown-unit"],
)  # fmt: skip
def test_a_bad_window_is_refused_at_its_field(
    windowed: tuple[Service, str], since: str | None, until: str | None, loc: str, fragment: str
) -> None:
    service, job_id = windowed
    with pytest.raises(ValidationFailed) as caught:
        service.get_job_timeline(job_id, since=since, until=until)
    [error] = caught.value.errors
    assert error["loc"] == ["query", loc] and fragment in error["msg"]


def test_a_time_without_an_offset_is_read_in_the_zone_the_timeline_is_shown_in(windowed: tuple[Service, str]) -> None:
    """The window's ends come back in UTC and the texts in the job's zone; a time copied from
    those texts (no offset) names the instant shown, not one hours off read as UTC."""
    service, job_id = windowed
    timeline = service.get_job_timeline(job_id, since="2026-07-01T09:00", until="2026-07-01T18:30")
    assert timeline["timezone"] == TEST_ZONE
    assert (timeline["since"], timeline["until"]) == (
        datetime(2026, 7, 1, 9, tzinfo=ZONE).astimezone(UTC).isoformat().replace("+00:00", "Z"),
        datetime(2026, 7, 1, 18, 30, tzinfo=ZONE).astimezone(UTC).isoformat().replace("+00:00", "Z"),
    )
    with_offset = service.get_job_timeline(job_id, since="2026-07-01T09:00Z", until="2026-07-01T18:30+00:00")
    assert (with_offset["since"], with_offset["until"]) == ("2026-07-01T09:00:00Z", "2026-07-01T18:30:00Z")
