"""``Scheduler.tick(now)`` and its loop on a real store (SQLite file, Postgres), on a fake clock.

The launcher records the runs the scheduler starts; one test runs a real ``true`` through the
daemon's Runner to show the same tick starts real processes.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta

import pytest

from jobctl.scheduler.loop import CLAIM_AHEAD, MAX_SLEEP_SECONDS, Scheduler
from jobctl.scheduler.runner import Runner
from jobctl.store import Store
from tests.scheduler.helpers import FakeClock, Rig, S, iso, last_sunday, parse

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
MS = timedelta(milliseconds=1)


def test_a_slot_is_claimed_a_little_ahead_and_started_at_its_moment(rig: Rig) -> None:
    job = rig.job("ahead", {"minutes": 1, "start_date": iso(S)})
    early = S - 200 * MS
    assert rig.tick(early) == pytest.approx((S - CLAIM_AHEAD - early).total_seconds()), "wake to claim ahead"
    assert rig.launcher.launched == []
    assert rig.tick(S - 20 * MS) == MAX_SLEEP_SECONDS
    [run] = rig.launcher.launched
    assert (run.job.id, run.execution.scheduled_for, run.at) == (job["id"], S, S), "started at the slot, not before"
    assert rig.clock.slept_until == [S]


def test_tick_sleeps_at_most_half_a_second_and_claims_nothing_without_a_free_run_slot(rig: Rig) -> None:
    job = rig.job("later", {"minutes": 1, "start_date": iso(S)})
    assert rig.tick(S - timedelta(seconds=5)) == MAX_SLEEP_SECONDS, "other processes' changes are seen within a second"
    rig.launcher.slots = 0  # every run slot taken: nothing is claimed, and a finishing run wakes the loop
    assert rig.tick(S) == MAX_SLEEP_SECONDS
    assert rig.launcher.launched == [] and rig.stored(job["id"]).next_slot == S, "the slot stays due"


@pytest.mark.parametrize(
    ("policy", "slots", "missed"),
    [("run_once", [S, S + MINUTE, S + 3 * HOUR], 179), ("skip", [S, S + MINUTE], 180)],
    ids=["run_once", "skip"],
)
def test_catch_up_after_a_gap(rig: Rig, policy: str, slots: list[datetime], missed: int) -> None:
    job = rig.job("gap", {"minutes": 1, "start_date": iso(S)}, misfirePolicy=policy, maxInstances=2)
    rig.tick(S)
    later = S + timedelta(hours=3, seconds=7)  # the daemon was down for three hours
    rig.tick(later)
    assert rig.slots(job["id"]) == slots, "the run at S, the missed range from S+1m, the catch-up at the last slot"
    assert [e["missedCount"] for e in rig.runs(job["id"])] == [None, missed, None][: len(slots)]
    assert [run.at for run in rig.launcher.launched] == [S, later][: len(slots) - 1], "a catch-up run starts at once"
    assert rig.stored(job["id"]).next_slot == S + timedelta(hours=3, minutes=1)
    assert rig.stored(job["id"]).updated_at == rig.stored(job["id"]).created_at, "running a job is no change to it"


def test_a_lost_lease_claims_nothing(rig: Rig) -> None:
    """The heartbeat thread is stuck: this process still believes it leads (its lease is valid on
    its own monotonic clock), but the store's lease ran out and another instance took it."""
    job = rig.job("fenced", {"minutes": 1, "start_date": iso(S)})
    rig.at(S - timedelta(seconds=30))
    moment = S + timedelta(seconds=1)
    rig.expire_lease()
    assert rig.store.cluster.acquire_or_renew_lease("another-instance", timedelta(seconds=15))
    assert rig.leadership.is_leader()
    rig.clock.current = moment
    rig.scheduler.tick(moment)
    assert rig.launcher.launched == []
    assert rig.runs(job["id"]) == []
    assert rig.stored(job["id"]).next_slot == S


def test_a_follower_claims_nothing(rig: Rig) -> None:
    job = rig.job("standby", {"minutes": 1, "start_date": iso(S)})
    rig.leadership.resign()
    assert rig.scheduler.tick(S) == MAX_SLEEP_SECONDS
    assert rig.launcher.launched == [] and rig.stored(job["id"]).next_slot == S


def test_jitter_delays_each_run_within_its_bounds(rig: Rig) -> None:
    job = rig.job("jittery", {"minutes": 1, "start_date": iso(S), "jitter": 30}, maxInstances=20)
    delays = []
    for n in range(8):
        stored = rig.stored(job["id"])
        assert stored.next_slot == S + n * MINUTE and stored.next_run_time is not None
        delay = stored.next_run_time - stored.next_slot
        assert timedelta(0) <= delay <= timedelta(seconds=30)
        delays.append(delay)
        rig.tick(stored.next_run_time - 10 * MS)
        assert rig.launcher.launched[-1].at == stored.next_run_time, "started at the jittered moment, not before"
    assert rig.slots(job["id"]) == [S + n * MINUTE for n in range(8)], "the slot recorded is the schedule's"
    assert len(set(delays)) > 1, "the delay is drawn per run"


def _utc(day: datetime | object, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("month", "expected"),
    [
        # 02:30 does not exist on the day clocks go forward: the run is at 03:00 CEST (01:00Z).
        (3, [(-1, 1, 30), (0, 1, 0), (1, 0, 30)]),
        # 02:30 happens twice on the day clocks go back: once (the first, CEST, 00:30Z), not at 01:30Z.
        (10, [(-1, 0, 30), (0, 0, 30), (1, 1, 30)]),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_a_daily_cron_job_runs_once_a_day_across_a_dst_change(
    rig: Rig, month: int, expected: list[tuple[int, int, int]]
) -> None:
    day = last_sunday(S.year, month)
    start = _utc(day - timedelta(days=1), 0, 0)
    schedule = {"hour": "2", "minute": "30", "timezone": "Europe/Berlin", "start_date": iso(start)}
    job = rig.job("nightly", schedule, job_type=2, maxInstances=5)
    slots = [_utc(day + timedelta(days=offset), hour, minute) for offset, hour, minute in expected]
    for slot in slots:
        assert rig.stored(job["id"]).next_run_time == slot
        rig.tick(slot)
    rig.tick(_utc(day, 1, 30))  # the second 02:30 of the fall-back day, or 03:30 CEST in spring
    assert rig.slots(job["id"]) == slots
    assert [run.at for run in rig.launcher.launched] == slots


def test_a_changed_job_takes_effect_at_the_next_tick(rig: Rig) -> None:
    job = rig.job("changing", {"minutes": 1, "start_date": iso(S)}, maxInstances=5)
    rig.tick(S)
    rig.service.update_job(
        job["id"],
        {"scheduleConfig": {"minutes": 7, "start_date": iso(S + MINUTE)}, "taskArgs": {"command": "echo changed"}},
    )
    rig.tick(S + MINUTE)
    assert rig.launcher.launched[-1].job.task_args == {"command": "echo changed"}
    assert rig.stored(job["id"]).next_slot == S + 8 * MINUTE, "the next slot follows the new schedule"
    rig.service.set_job_status(job["id"], {"isPaused": True})
    rig.tick(S + 8 * MINUTE)
    assert len(rig.launcher.launched) == 2, "a paused job is not claimed"


def test_the_loop_waits_what_tick_asks_less_the_time_the_tick_took(rig: Rig) -> None:
    job = rig.job("looped", {"minutes": 1, "start_date": iso(S)})
    rig.at(S - timedelta(seconds=2))
    stop = threading.Event()
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(round(seconds, 3))
        rig.clock.advance(seconds)
        stop.set() if len(waits) == 5 else None

    rig.scheduler.run(stop, wait=wait)
    assert waits == [0.5, 0.5, 0.5, 0.47, 0.47], "the fifth tick claimed ahead, then waited 30 ms for the slot"
    assert [(run.job.id, run.at) for run in rig.launcher.launched] == [(job["id"], S)]


def test_tick_starts_a_real_process_through_the_runner(rig: Rig, store: Store) -> None:
    job = rig.job("real", {"minutes": 1, "start_date": iso(S)})
    runner = Runner(store, max_workers=2)
    scheduler = Scheduler(
        store,
        leadership=rig.leadership,
        runner=runner,
        default_timezone="Europe/Berlin",
        misfire_grace_seconds=1,
        clock=rig.clock,
    )
    rig.at(S)
    try:
        scheduler.tick(S)
    finally:
        runner.shutdown(10)  # waits until every outcome is recorded
    [run] = rig.runs(job["id"])
    assert (run["status"], parse(run["scheduledFor"]), run["result"]) == ("success", S, {"exitCode": 0})


class SteppingBack(FakeClock):
    """A wall clock that NTP steps back an hour after each reading."""

    def now(self) -> datetime:
        reading = self.current
        self.current -= timedelta(hours=1)
        return reading


def test_a_wall_clock_stepping_back_never_makes_the_loop_wait_longer_than_asked(rig: Rig) -> None:
    rig.job("steady", {"minutes": 1, "start_date": iso(S)})
    rig.at(S - timedelta(seconds=10))
    rig.scheduler.clock = SteppingBack(rig.clock.now())
    stop = threading.Event()
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        stop.set()

    rig.scheduler.run(stop, wait=wait)
    assert waits == [MAX_SLEEP_SECONDS]


def test_the_loop_says_when_it_will_leave_the_store_alone(rig: Rig) -> None:
    """Other writers of the daemon (the notification sender) wait for ``quiet_for() > 0``: it is 0
    while due slots wait for a run slot, and the time to the next wake-up otherwise."""
    job = rig.job("gapped", {"minutes": 1, "start_date": iso(S)})
    rig.at(S - timedelta(seconds=5))
    seen: list[float] = []
    stop = threading.Event()

    def wait(seconds: float) -> None:
        seen.append(rig.scheduler.quiet_for())
        if len(seen) == 1:
            rig.launcher.slots = 0  # every run slot taken when the slot comes
            rig.at(S)
        elif len(seen) == 2:
            rig.launcher.slots = 1000
        else:
            stop.set()

    rig.scheduler.run(stop, wait=wait)
    assert seen[0] > 0, "nothing due: quiet until the next wake-up"
    assert seen[1] == 0, "a due slot waits for a run slot: the loop claims as soon as one frees"
    assert seen[2] > 0 and rig.launcher.launched[0].job.id == job["id"], "claimed: quiet again"
