"""Missed slots become one ``missed`` row per range, saying why, on both backends.

The ranges after a real leadership gap use real time (the lease is judged by the store's clock):
one daemon's leadership ends (a clean stop, or a crash whose lease runs out), another takes over
seconds later and claims. The arithmetic of long ranges uses the fake clock.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jobctl.models import Caller, Role
from jobctl.scheduler.clock import SystemClock
from jobctl.scheduler.leadership import Leadership
from jobctl.scheduler.loop import Scheduler
from jobctl.service import Service
from jobctl.store import Store
from tests.scheduler.helpers import FakeClock, RecordingLauncher, Rig, S, iso, parse

SECOND = timedelta(seconds=1)


class RealTimeLauncher(RecordingLauncher):
    """The recording launcher on the real clock."""

    def __init__(self) -> None:
        super().__init__(FakeClock(datetime.now(UTC)))

    def launch(self, runs: Any) -> None:
        self.clock.current = datetime.now(UTC)
        super().launch(runs)


def scheduler_on(store: Store, leadership: Leadership) -> Scheduler:
    return Scheduler(
        store, leadership=leadership, runner=RealTimeLauncher(), default_timezone="UTC",
        misfire_grace_seconds=0.2, clock=SystemClock(),
    )  # fmt: skip


def every_second(service: Service, policy: str) -> dict[str, Any]:
    start = datetime.now(UTC).replace(microsecond=0) + SECOND
    return service.create_job({
        "name": f"tick-{policy}", "taskFunctionId": 1, "jobTypeId": 1, "taskArgs": {"command": "true"},
        "scheduleConfig": {"seconds": 1, "start_date": iso(start)}, "misfirePolicy": policy, "maxInstances": 5,
    })  # fmt: skip


def rows(service: Service, job_id: str) -> list[dict[str, Any]]:
    found = service.list_job_executions(job_id, per_page=100)["executions"]
    return sorted(found, key=lambda e: e["scheduledFor"])


def take_over_after_a_gap(store: Store, *, crash: bool) -> tuple[Leadership, datetime]:
    """One daemon leads, then stops cleanly or crashes (its 1 s lease runs out); 2.2 s after it
    led, another takes over. Returns the new leader and the moment the old one stopped leading."""
    first = Leadership(store, ttl_seconds=1 if crash else 15)
    first.register()
    assert first.beat()
    if not crash:
        first.resign()
    stopped = datetime.now(UTC) + (SECOND if crash else timedelta(0))
    time.sleep(2.2)
    second = Leadership(store, ttl_seconds=15)
    second.register()
    assert second.beat()
    return second, stopped


@pytest.mark.parametrize("policy", ["run_once", "skip"])
def test_slots_missed_while_no_daemon_led_are_one_row_saying_so(store: Store, policy: str) -> None:
    service = Service(store, Caller(user_id="ops", role=Role.ADMIN), default_timezone="UTC")
    job = every_second(service, policy)
    first_slot = parse(job["nextRunTime"])
    leader, stopped = take_over_after_a_gap(store, crash=False)
    now = datetime.now(UTC)
    scheduler_on(store, leader).tick(now)

    due = int((now - first_slot) / SECOND) + 1  # the slots from the first through now
    # The latest of them is within the grace (0.2 s) when now is that close to it: then it runs
    # as on time, whatever the policy, and the others are missed.
    on_time = now - (first_slot + (due - 1) * SECOND) <= timedelta(seconds=0.2)
    found = rows(service, job["id"])
    missed = [e for e in found if e["status"] == "missed"]
    assert len(missed) == 1, found
    [row] = missed
    assert parse(row["scheduledFor"]) == first_slot
    ran = [e for e in found if e["status"] == "running"]
    if policy == "run_once" or on_time:
        assert row["missedCount"] == due - 1
        assert [parse(e["scheduledFor"]) for e in ran] == [first_slot + (due - 1) * SECOND], "one run, at the last"
        assert parse(row["missedUntil"]) == first_slot + (due - 2) * SECOND
    else:
        assert (row["missedCount"], ran) == (due, [])
        assert parse(row["missedUntil"]) == first_slot + (due - 1) * SECOND
    if policy == "skip":
        assert row["errorMessage"].endswith("; misfire policy skip")
    gap = leader.gap
    assert gap is not None and gap.since is not None
    assert abs((gap.since - stopped).total_seconds()) < 0.5, "the gap starts when the old leader released"
    # The job's first slot comes a second after its creation: after the old leader released the
    # lease, unless the machine was slow enough to let the release come after it.
    since, until = f"{gap.since:%Y-%m-%dT%H:%M:%SZ}", f"{gap.until:%Y-%m-%dT%H:%M:%SZ}"
    host, pid = socket.gethostname(), os.getpid()
    if first_slot >= gap.since:
        assert row["errorMessage"].startswith(
            f"no daemon was leading from {since} to {until}: "
            f"the daemon on {host} (pid {pid}) that led before was stopped cleanly"
        ), row
    else:
        assert row["errorMessage"].startswith(
            f"the leading daemon on {host} (pid {pid}) was stopping at this slot; "
            f"it gave its lease up at {since} and no daemon led until {until}"
        ), row
    assert service.get_job(job["id"])["updatedAt"] == job["updatedAt"], "scheduling is no change to the job"


def test_a_failover_window_is_a_missed_range_from_the_dead_leaders_lease_expiry(pg_url: str) -> None:
    from jobctl.store import open_store

    store = open_store(pg_url)
    try:
        service = Service(store, Caller(user_id="ops", role=Role.ADMIN), default_timezone="UTC")
        job = every_second(service, "run_once")
        leader, lease_end = take_over_after_a_gap(store, crash=True)
        scheduler_on(store, leader).tick(datetime.now(UTC))
        [row] = [e for e in rows(service, job["id"]) if e["status"] == "missed"]
        gap = leader.gap
        assert gap is not None and gap.since is not None
        assert abs((gap.since - lease_end).total_seconds()) < 0.5, "no daemon led once the crashed one's lease ran out"
        # the first missed slot came before the lease ran out: while the crashed leader held it
        assert parse(row["scheduledFor"]) < gap.since
        assert gap.previous is not None and gap.previous.last_heartbeat is not None
        assert row["errorMessage"].startswith(
            f"the leading daemon on {socket.gethostname()} (pid {os.getpid()}) stopped before this slot "
            f"(last heard from at {gap.previous.last_heartbeat:%Y-%m-%dT%H:%M:%SZ}: killed, crashed, hung or cut off "
            f"from the store); its lease ran out at {gap.since:%Y-%m-%dT%H:%M:%SZ} "
            f"and no daemon led until {gap.until:%Y-%m-%dT%H:%M:%SZ}"
        ), row["errorMessage"]
        assert row["missedCount"] >= 1
    finally:
        store.close()


def test_a_standby_taking_over_as_the_dead_leaders_lease_ends_names_no_empty_window(store: Store) -> None:
    """A leader killed with ``kill -9`` claims nothing more; a standby polling the lease takes it
    the moment it runs out. Its slots were missed while the dead leader held the lease, and no
    time passed without a leader: the reason says so, not "no daemon led until" the same second."""
    service = Service(store, Caller(user_id="ops", role=Role.ADMIN), default_timezone="UTC")
    job = every_second(service, "skip")
    killed = Leadership(store, ttl_seconds=1)
    killed.register()
    assert killed.beat()  # and never again: its lease runs out a second later
    standby = Leadership(store, ttl_seconds=15)
    standby.register()
    deadline = time.monotonic() + 10
    while not standby.beat():
        assert time.monotonic() < deadline, "the standby never took the lease over"
        time.sleep(0.02)
    gap = standby.gap
    assert gap is not None and gap.since is not None
    assert gap.until - gap.since < timedelta(seconds=0.5), f"the standby took over late: {gap}"
    time.sleep(0.5)  # the job's first slot is well past the misfire grace when the standby ticks
    scheduler_on(store, standby).tick(datetime.now(UTC))
    [row] = [e for e in rows(service, job["id"]) if e["status"] == "missed"]
    assert parse(row["scheduledFor"]) < gap.since, "the first slot came while the killed leader held the lease"
    assert gap.previous is not None and gap.previous.last_heartbeat is not None
    assert row["errorMessage"] == (
        f"the leading daemon on {socket.gethostname()} (pid {os.getpid()}) stopped before this slot "
        f"(last heard from at {gap.previous.last_heartbeat:%Y-%m-%dT%H:%M:%SZ}: killed, crashed, hung or cut off "
        f"from the store); its lease ran out at {gap.since:%Y-%m-%dT%H:%M:%SZ}, when the next daemon took over; "
        "misfire policy skip"
    ), row["errorMessage"]


def test_a_takeover_after_a_term_nobody_recorded_keeps_the_words_that_name_no_daemon(store: Store) -> None:
    """A leader of an earlier release records no term: the reason then says what the lease row
    alone tells, and does not guess at a clean stop or a kill."""
    service = Service(store, Caller(user_id="ops", role=Role.ADMIN), default_timezone="UTC")
    job = every_second(service, "skip")
    killed = Leadership(store, ttl_seconds=1)
    killed.register()
    assert killed.beat()
    store.db.execute("DELETE FROM lease_terms")  # as a daemon before lease_terms left it
    time.sleep(2.5)
    standby = Leadership(store, ttl_seconds=15)
    standby.register()
    assert standby.beat()
    gap = standby.gap
    assert gap is not None and gap.since is not None and gap.previous is None
    scheduler_on(store, standby).tick(datetime.now(UTC))
    [row] = [e for e in rows(service, job["id"]) if e["status"] == "missed"]
    assert row["errorMessage"].startswith(
        f"the leading daemon stopped before this slot; its lease ended at {gap.since:%Y-%m-%dT%H:%M:%SZ} "
        f"and no daemon led until {gap.until:%Y-%m-%dT%H:%M:%SZ}"
    ), row["errorMessage"]


def test_a_standby_that_stops_does_not_mark_a_term_it_lost_long_ago_as_given_up(store: Store) -> None:
    """An instance that led term 1, lost the lease (frozen past its TTL) and stops as a standby
    gives nothing up: term 1 ended by running out, and the next leader must read it so."""
    first = Leadership(store, ttl_seconds=1)
    first.register()
    assert first.beat() and first.term == 1
    time.sleep(1.2)
    other = Leadership(store, ttl_seconds=15)
    other.register()
    assert other.beat() and other.term == 2
    first.resign()  # a standby now: it holds no lease to give up
    record = store.cluster.lease_term(1)
    assert record is not None and record.released_at is None, record
    other.resign()
    record = store.cluster.lease_term(2)
    assert record is not None and record.released_at is not None, "the leader's clean stop is recorded"
    assert (record.holder_id, record.pid) == (other.instance_id, os.getpid())


def test_lease_terms_keeps_only_the_latest_terms(store: Store) -> None:
    from jobctl.store.cluster import KEPT_TERMS

    leaders = []
    for _ in range(KEPT_TERMS + 5):
        leader = Leadership(store, ttl_seconds=15)
        leader.register()
        assert leader.beat()
        leader.resign()
        leader.mark_stopped()  # and closes its connection
        leaders.append(leader)
    terms = [row["term"] for row in store.db.fetch_all("SELECT term FROM lease_terms ORDER BY term")]
    last = leaders[-1].term
    assert terms == list(range(last - KEPT_TERMS + 1, last + 1)), terms


def test_a_million_missed_slots_are_one_row_counted_at_once(rig: Rig) -> None:
    job = rig.job("per-second", {"seconds": 1, "start_date": iso(S)}, maxInstances=2)
    rig.tick(S)
    later = S + timedelta(seconds=1_000_000, milliseconds=500)
    started = time.perf_counter()
    rig.tick(later)
    elapsed = time.perf_counter() - started
    runs = rig.runs(job["id"])
    expected = [("running", None), ("missed", 999_999), ("running", None)]
    assert [(e["status"], e["missedCount"]) for e in runs] == expected
    assert parse(runs[1]["missedUntil"]) == S + timedelta(seconds=999_999)
    assert parse(runs[2]["scheduledFor"]) == S + timedelta(seconds=1_000_000)
    assert elapsed < 1.0, f"the range was counted, not listed ({elapsed:.2f}s)"


def test_a_cron_range_is_counted_across_a_dst_change(rig: Rig) -> None:
    """Every 30 minutes in Berlin across the night the clocks go forward (02:00 and 02:30 do not
    exist): the count is the schedule's own, stepped through."""
    from tests.scheduler.helpers import last_sunday

    day = last_sunday(S.year, 3)
    start = datetime(day.year, day.month, day.day, 0, 0, tzinfo=UTC) - timedelta(hours=1)  # 00:00 Berlin
    job = rig.job("half-hourly", {"minute": "*/30", "timezone": "Europe/Berlin"}, job_type=2, misfirePolicy="skip")
    rig.store.db.execute(
        "UPDATE jobs SET next_slot = :s, next_run_time = :s WHERE id = :id", {"s": start, "id": job["id"]}
    )
    rig.tick(start + timedelta(hours=4, seconds=30))  # 00:00 .. 06:00 Berlin (CEST from 03:00): 4 UTC hours
    [row] = rig.runs(job["id"])
    listed, slot = [], rig.scheduler.schedules.get(rig.stored(job["id"])).first_slot_at_or_after(start)
    while slot is not None and slot <= start + timedelta(hours=4, seconds=30):
        listed.append(slot)
        slot = rig.scheduler.schedules.get(rig.stored(job["id"])).next_slot_after(slot)
    assert row["status"] == "missed" and parse(row["scheduledFor"]) == start
    assert (row["missedCount"], parse(row["missedUntil"])) == (len(listed), listed[-1])
    assert len(listed) in (9, 10), "00:00 00:30 01:00 01:30 (CET), 03:00 .. 05:00 (CEST)"


def test_a_million_seconds_of_a_per_second_cron_job_are_one_row(rig: Rig) -> None:
    """A 6-field cron with seconds, down for a million seconds: one row with the exact count
    (counted a day at a time past the first slots; bench/tick.py measures how long it takes)."""
    job = rig.job("cron-per-second", {"expression": "* * * * * *", "timezone": "UTC"}, job_type=2,
                  misfirePolicy="skip")  # fmt: skip
    rig.store.db.execute("UPDATE jobs SET next_slot = :s, next_run_time = :s WHERE id = :id", {"s": S, "id": job["id"]})
    rig.tick(S + timedelta(seconds=1_000_001, milliseconds=500))
    row, on_time = rig.runs(job["id"])
    assert (row["status"], row["missedCount"]) == ("missed", 1_000_001)
    assert parse(row["scheduledFor"]) == S
    assert parse(row["missedUntil"]) == S + timedelta(seconds=1_000_000), "1.5 s late: missed"
    assert "misfire policy skip" in row["errorMessage"]
    assert on_time["status"] == "running", "0.5 s late, within the grace: it runs"
    assert parse(on_time["scheduledFor"]) == S + timedelta(seconds=1_000_001)
