"""``claim_due_slots`` on a real store (SQLite file, Postgres) at moments a fake clock sets."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from jobctl.models import ExecutionStatus, Job
from jobctl.scheduler.claims import Claim, claim_due_slots
from jobctl.service.overview import overview
from jobctl.store import Store
from jobctl.store.writes import NewExecution
from tests.scheduler.helpers import Rig, S, iso, parse

MINUTE = timedelta(minutes=1)


def claim(rig: Rig, now: datetime, *, beat: bool = True, term: int | None = None) -> list[Claim]:
    """Claim whatever is due at ``now`` as the rig's instance (heartbeating there first unless ``beat`` is False)."""
    if beat:
        rig.at(now)
    due = rig.store.jobs.due(now, limit=100)
    return claim_with(rig, due, now, term=term)


def claim_with(rig: Rig, due: list[Job], now: datetime, *, term: int | None = None, grace: float = 1) -> list[Claim]:
    return claim_due_slots(
        rig.store,
        due,
        now=now,
        instance_id=rig.leadership.instance_id,
        term=rig.leadership.term if term is None else term,
        fence=rig.leadership.fence,
        schedules=rig.scheduler.schedules,
        misfire_grace=timedelta(seconds=grace),
    )


def test_a_due_slot_becomes_one_running_execution_once(rig: Rig) -> None:
    job = rig.job("every-minute", {"minutes": 1, "start_date": iso(S)})
    rig.at(S)
    due = rig.store.jobs.due(S, limit=10)
    claims = claim_with(rig, due, S)
    assert [(c.job.id, c.execution.scheduled_for, c.due_at) for c in claims] == [(job["id"], S, S)]
    assert claims[0].execution.status == ExecutionStatus.RUNNING
    assert claims[0].execution.instance_id == rig.leadership.instance_id
    assert claim_with(rig, due, S) == [], "the same slot, claimed again from a stale read, is not claimed twice"
    stored = rig.stored(job["id"])
    assert (stored.next_slot, stored.next_run_time) == (S + MINUTE, S + MINUTE)
    assert [e["status"] for e in rig.runs(job["id"])] == ["running"]


def test_a_slot_late_within_the_grace_runs_and_the_next_follows_the_slot(rig: Rig) -> None:
    job = rig.job("late", {"minutes": 1, "start_date": iso(S)})
    assert len(claim(rig, S + timedelta(milliseconds=900))) == 1
    assert rig.stored(job["id"]).next_slot == S + MINUTE


@pytest.mark.parametrize(
    ("policy", "run", "missed"),
    [("run_once", [S + 10 * MINUTE], (9, S + 9 * MINUTE)), ("skip", [], (10, S + 10 * MINUTE))],
    ids=["run_once-runs-the-last-missed-slot", "skip-runs-none"],
)
def test_catch_up_after_a_gap(rig: Rig, policy: str, run: list[datetime], missed: tuple[int, datetime]) -> None:
    job = rig.job("gap", {"minutes": 1, "start_date": iso(S)}, misfirePolicy=policy, maxInstances=2)
    assert len(claim(rig, S)) == 1
    later = S + timedelta(minutes=10, seconds=5)  # the slots S+1m ... S+10m were missed
    claims = claim(rig, later)
    assert [c.execution.scheduled_for for c in claims] == run, "one run for all the missed slots, or none"
    first, *rest = rig.runs(job["id"])
    assert first["status"] == "running" and parse(first["scheduledFor"]) == S
    range_row = next(e for e in rest if e["status"] == "missed")
    assert (range_row["missedCount"], parse(range_row["missedUntil"])) == missed
    assert parse(range_row["scheduledFor"]) == S + MINUTE, "the range starts at the first missed slot"
    assert range_row["errorMessage"].startswith("claimed more than the misfire grace (1s) late")
    assert len(rest) == 1 + len(run), "one row for the range, one for the catch-up run"
    assert rig.stored(job["id"]).next_slot == S + timedelta(minutes=11), "then on at the next future slot"


@pytest.mark.parametrize("policy", ["run_once", "skip"])
def test_after_a_gap_a_slot_within_the_grace_runs_and_only_later_ones_are_missed(rig: Rig, policy: str) -> None:
    """Lateness is judged slot by slot at the claim, as for a leader that never stopped: the
    slots more than the grace (1 s) late are missed, the one 0.4 s late runs, whatever the policy."""
    job = rig.job("grace", {"minutes": 1, "start_date": iso(S)}, misfirePolicy=policy, maxInstances=2)
    assert len(claim(rig, S)) == 1
    claims = claim(rig, S + timedelta(minutes=3, milliseconds=400))
    assert [c.execution.scheduled_for for c in claims] == [S + 3 * MINUTE]
    missed = next(e for e in rig.runs(job["id"]) if e["status"] == "missed")
    assert (parse(missed["scheduledFor"]), missed["missedCount"]) == (S + MINUTE, 2)
    assert parse(missed["missedUntil"]) == S + 2 * MINUTE
    ending = "; misfire policy skip" if policy == "skip" else (
        f"; caught up with one run at {iso(S + 3 * MINUTE)} (misfire policy run_once)"
    )  # fmt: skip
    assert missed["errorMessage"].endswith(ending), missed["errorMessage"]
    assert rig.stored(job["id"]).next_slot == S + 4 * MINUTE


def test_a_slot_exactly_the_grace_late_is_on_time(rig: Rig) -> None:
    job = rig.job("edge", {"minutes": 1, "start_date": iso(S)}, misfirePolicy="skip", maxInstances=2)
    assert len(claim(rig, S)) == 1
    claims = claim(rig, S + timedelta(minutes=2, seconds=1))  # S+1m is 61 s late, S+2m exactly 1 s
    assert [c.execution.scheduled_for for c in claims] == [S + 2 * MINUTE]
    missed = next(e for e in rig.runs(job["id"]) if e["status"] == "missed")
    assert (missed["missedCount"], parse(missed["missedUntil"])) == (1, S + MINUTE)


def test_every_slot_within_a_long_grace_runs_one_claim_at_a_time(rig: Rig) -> None:
    """With a grace longer than the period several slots are within it: each is claimed in turn,
    the first with the missed range, the next ones by the claims after it, as a running leader
    held up as long would claim them; ``run_once`` runs no extra catch-up beside them."""
    job = rig.job("long-grace", {"seconds": 1, "start_date": iso(S)}, maxInstances=5)
    assert len(claim(rig, S)) == 1
    now = S + timedelta(seconds=10, milliseconds=500)  # S+1 .. S+7 more than 3 s late; S+8 .. S+10 within
    ran = []
    for _ in range(5):
        ran += [c.execution.scheduled_for for c in claim_with(rig, rig.store.jobs.due(now, limit=10), now, grace=3)]
    assert ran == [S + timedelta(seconds=n) for n in (8, 9, 10)]
    missed = next(e for e in rig.runs(job["id"]) if e["status"] == "missed")
    assert (parse(missed["scheduledFor"]), missed["missedCount"]) == (S + timedelta(seconds=1), 7)
    assert missed["errorMessage"].endswith(f"; caught up with one run at {iso(S + timedelta(seconds=8))} "
                                           "(misfire policy run_once)"), missed["errorMessage"]  # fmt: skip
    assert rig.stored(job["id"]).next_slot == S + timedelta(seconds=11)


def test_a_slot_within_the_grace_that_is_skipped_says_which_slot(rig: Rig) -> None:
    job = rig.job("busy-grace", {"minutes": 1, "start_date": iso(S)}, maxInstances=1)
    assert len(claim(rig, S)) == 1  # and it stays running
    assert claim(rig, S + timedelta(minutes=3, milliseconds=400)) == []
    missed = next(e for e in rig.runs(job["id"]) if e["status"] == "missed")
    assert missed["missedCount"] == 2
    assert missed["errorMessage"].endswith(
        f"; its next slot {iso(S + 3 * MINUTE)} was skipped: 1 run(s) still active and maxInstances is 1"
        " (misfire policy run_once)"
    ), missed["errorMessage"]


def test_a_catch_up_slot_that_is_skipped_is_not_called_a_catch_up_run(rig: Rig) -> None:
    """The missed row's reason says what became of the last missed slot, as the claim decided it:
    here the run of the first slot still holds ``maxInstances``, so the catch-up is skipped."""
    job = rig.job("busy-gap", {"minutes": 1, "start_date": iso(S)}, maxInstances=1)
    assert len(claim(rig, S)) == 1  # and it stays running
    assert claim(rig, S + timedelta(minutes=3, seconds=5)) == [], "the catch-up slot finds the run active"
    by_status = {e["status"]: e for e in rig.runs(job["id"])}
    skipped, missed = by_status["skipped"], by_status["missed"]
    assert parse(skipped["scheduledFor"]) == S + 3 * MINUTE
    assert skipped["errorMessage"] == "skipped: 1 run(s) still active and maxInstances is 1"
    assert missed["errorMessage"].endswith(
        f"; its last slot {iso(S + 3 * MINUTE)} was skipped: 1 run(s) still active and maxInstances is 1"
        " (misfire policy run_once)"
    ), missed["errorMessage"]
    assert "caught up" not in missed["errorMessage"]


def test_a_catch_up_slot_skipped_for_a_waiting_retry_says_the_retry_holds_it(rig: Rig) -> None:
    """What holds the place is said alike in the skipped row, the missed range's reason and
    ``jobctl top``'s missed ranges (GET /overview): here no run is active, a retry waits."""
    job = rig.job("retrying-gap", {"minutes": 1, "start_date": iso(S)}, maxInstances=1, retryCount=1)
    [first] = claim(rig, S)
    failed_at, retry_at = S + timedelta(seconds=2), S + timedelta(hours=1)
    rig.store.executions.finish(first.execution.id, status="failed", started_at=None, completed_at=failed_at,
                                duration_seconds=2.0, result=None, error_message="exit code 1")  # fmt: skip
    failed = rig.store.executions.get(first.execution.id)
    assert failed is not None
    assert rig.store.executions.insert(NewExecution.retry_of(failed, now=failed_at, run_after=retry_at))
    assert claim(rig, S + timedelta(minutes=3, seconds=5)) == []
    by_status = {e["status"]: e for e in rig.runs(job["id"])}
    why = f"a retry of this job waits (retry at {iso(retry_at)}) and maxInstances is 1"
    assert by_status["skipped"]["errorMessage"] == f"skipped: {why}"
    assert by_status["missed"]["errorMessage"].endswith(
        f"; its last slot {iso(S + 3 * MINUTE)} was skipped: {why} (misfire policy run_once)"
    ), by_status["missed"]["errorMessage"]
    [missed] = overview(rig.store, S + 4 * MINUTE)["missed"]
    assert missed["reason"] == by_status["missed"]["errorMessage"]


def test_a_catch_up_slot_that_runs_says_so(rig: Rig) -> None:
    job = rig.job("free-gap", {"minutes": 1, "start_date": iso(S)}, maxInstances=2)
    assert len(claim(rig, S)) == 1
    assert len(claim(rig, S + timedelta(minutes=3, seconds=5))) == 1
    missed = next(e for e in rig.runs(job["id"]) if e["status"] == "missed")
    caught_up = f"; caught up with one run at {iso(S + 3 * MINUTE)} (misfire policy run_once)"
    assert missed["errorMessage"].endswith(caught_up)


def test_a_slot_finding_max_instances_runs_active_is_recorded_skipped(rig: Rig) -> None:
    job = rig.job("single", {"minutes": 1, "start_date": iso(S)}, maxInstances=1)
    assert len(claim(rig, S)) == 1  # and it stays running
    assert claim(rig, S + MINUTE) == []
    first, second = rig.runs(job["id"])
    assert first["status"] == "running"
    assert second["status"] == "skipped" and parse(second["scheduledFor"]) == S + MINUTE
    assert second["errorMessage"] == "skipped: 1 run(s) still active and maxInstances is 1"
    assert rig.stored(job["id"]).next_slot == S + 2 * MINUTE


def test_a_date_job_disables_itself_when_claimed(rig: Rig) -> None:
    job = rig.job("once", {"run_date": iso(S)}, job_type=3)
    assert [c.execution.scheduled_for for c in claim(rig, S)] == [S]
    stored = rig.stored(job["id"])
    assert not stored.is_enabled
    assert (stored.next_slot, stored.next_run_time) == (None, None)
    assert claim(rig, S + MINUTE) == []


def _expire(rig: Rig) -> datetime:
    """Let the rig's lease run out unrenewed; returns a moment after it expired."""
    lapsed = S + timedelta(seconds=20)
    rig.clock.current = lapsed
    rig.expire_lease()
    return lapsed


def _take_over(store: Store) -> None:
    assert store.cluster.acquire_or_renew_lease("another-instance", timedelta(seconds=15)) is not None


@pytest.mark.parametrize(
    "how",
    ["expired", "taken-over", "older-term"],
)
def test_a_claim_without_the_lease_claims_nothing(rig: Rig, how: str) -> None:
    job = rig.job("fenced", {"minutes": 1, "start_date": iso(S)})
    rig.at(S)
    now, term = S, None
    if how == "expired":
        now = _expire(rig)
    elif how == "taken-over":
        now = _expire(rig)
        _take_over(rig.store)
    else:
        term = rig.leadership.term - 1
    assert claim(rig, now, beat=False, term=term) == []
    assert rig.runs(job["id"]) == []
    assert rig.stored(job["id"]).next_slot == S, "the slot stays due for whoever holds the lease"
