"""Several daemons on one store: one leader, fast failover, no slot run twice, no orphan left."""

from __future__ import annotations

import itertools
import os
import pwd
import signal
import socket
import subprocess
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pytest

from jobctl.service import Service
from tests.daemon.helpers import (
    DaemonFactory,
    DaemonProcess,
    cli,
    executions,
    parse,
    shell_job,
    unique_sleep,
    wait_for,
    write_config,
)

TTL = 3


@pytest.fixture
def fast_lease(daemons: DaemonFactory, tmp_path: Path) -> DaemonFactory:
    daemons.config_path = write_config(tmp_path / "fast.toml", lease_ttl_seconds=TTL, shutdown_grace_seconds=2)
    return daemons


def leader_pid(service: Service) -> int | None:
    leader = service.get_status()["leaderInstance"]
    return None if leader is None else int(leader["pid"])


def the_leader(service: Service, started: list[DaemonProcess]) -> DaemonProcess:
    pid = wait_for(lambda: leader_pid(service), timeout=10, what="a leader")
    return next(d for d in started if d.pid == pid)


def assert_each_slot_once(service: Service, job_ids: list[str], *, period: float, failovers: int) -> None:
    for job_id in job_ids:
        runs = [e for e in executions(service, job_id) if e["attempt"] == 1 and e["status"] != "missed"]
        slots = [parse(e["scheduledFor"]) for e in runs]
        assert len(slots) == len(set(slots)), f"a slot of {job_id} ran twice"
        ordered = sorted(slots)
        gaps = [b - a for a, b in itertools.pairwise(ordered)]
        assert all(gap >= timedelta(seconds=period) for gap in gaps)
        long_gaps = [gap for gap in gaps if gap > timedelta(seconds=period)]
        assert len(long_gaps) <= failovers, f"slots lost outside the failover window: {long_gaps}"


@pytest.mark.slow
def test_kill_9_of_the_leader_fails_over_within_the_ttl(
    service: Service, fast_lease: DaemonFactory, store_url: str
) -> None:
    count = 2 if store_url.startswith("sqlite") else 3
    jobs = [shell_job(service, f"beat-{n}", "true")["id"] for n in range(3)]
    for _ in range(count):
        fast_lease.start()
    time.sleep(2.5)
    old = the_leader(service, fast_lease.started)
    old_instance = service.get_status()["leaderInstance"]["id"]
    old.signal(signal.SIGKILL)
    old.proc.wait(timeout=5)
    killed_at = time.monotonic()
    new_pid = wait_for(
        lambda: (pid := leader_pid(service)) not in (None, old.pid) and pid, timeout=TTL + 5, what="a new leader"
    )
    wait_for(
        lambda: any(e["instanceId"] not in (None, old_instance) for e in executions(service, jobs[0])),
        timeout=TTL + 5,
        what="a run by the new leader",
    )
    takeover = time.monotonic() - killed_at
    assert takeover <= TTL + 2.5, f"failover took {takeover:.1f}s"
    assert new_pid != old.pid
    time.sleep(2)
    for daemon in fast_lease.started:
        if daemon.alive():
            daemon.stop()
    assert_each_slot_once(service, jobs, period=1, failovers=1)


def test_clean_stop_hands_the_lease_over_at_once(service: Service, fast_lease: DaemonFactory) -> None:
    first = fast_lease.start()
    second = fast_lease.start()
    leader = the_leader(service, [first, second])
    standby = second if leader is first else first
    begun = time.monotonic()
    leader.stop()
    wait_for(lambda: leader_pid(service) == standby.pid, timeout=5, what="the standby to lead")
    assert time.monotonic() - begun < 4, "takeover after a clean stop waits for nobody"
    assert "stopped" in leader.log()


def test_runs_of_a_killed_daemon_are_failed_and_their_processes_killed(
    service: Service, fast_lease: DaemonFactory
) -> None:
    marker = unique_sleep()
    job = shell_job(service, "long", f"sleep {marker}", scheduleConfig={"hours": 1})
    first = fast_lease.start()
    second = fast_lease.start()
    leader = the_leader(service, [first, second])
    execution_id = service.trigger_job(job["id"])["executionId"]
    wait_for(lambda: service.get_execution(execution_id)["status"] == "running", timeout=5, what="the run to start")
    time.sleep(0.5)
    leader.signal(signal.SIGKILL)
    run = wait_for(
        lambda: (e := service.get_execution(execution_id))["status"] == "failed" and e,
        timeout=TTL + 6,
        what="the orphan to be finished",
    )
    assert "abandoned" in run["errorMessage"] and "stopped heartbeating" in run["errorMessage"]
    wait_for(
        lambda: subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True).returncode == 1,
        timeout=8,
        what="the orphaned process to be killed",
    )
    assert leader.pid not in {i["pid"] for i in service.get_status()["instances"]}


MISFIRE_POLICIES = {"run_once": 1, "skip": 0}
"""Each policy, and how many of a job's missed slots it runs."""
GRACE = timedelta(seconds=1)
"""The daemons' misfire grace (:func:`tests.daemon.helpers.write_config`)."""


def test_missed_slots_run_once_or_not_at_all(service: Service, daemons: DaemonFactory) -> None:
    """One job of each policy through the same 7 s without a daemon: each is judged on its own.
    A slot within the misfire grace when the new leader claims is on time, not missed: it runs
    with either policy (with run_once it is the one run)."""
    jobs = {
        policy: shell_job(service, f"every2-{policy}", "true", scheduleConfig={"seconds": 2}, misfirePolicy=policy)
        for policy in MISFIRE_POLICIES
    }
    daemon = daemons.start()
    wait_for(lambda: all(executions(service, job["id"]) for job in jobs.values()), timeout=5, what="a first run")
    daemon.stop()
    stopped_runs = {policy: len(executions(service, job["id"])) for policy, job in jobs.items()}
    time.sleep(7)
    daemons.start()
    time.sleep(1.5)
    for policy, expected in MISFIRE_POLICIES.items():
        everything = executions(service, jobs[policy]["id"])
        [missed] = [e for e in everything if e["status"] == "missed"]
        assert missed["errorMessage"].startswith("no daemon was leading from "), (policy, missed)
        claimed_at, last_missed = parse(missed["completedAt"]), parse(missed["missedUntil"])
        assert claimed_at - last_missed > GRACE, f"{policy}: only slots more than the grace late are missed"
        next_slot = last_missed + timedelta(seconds=2)
        runs = max(expected, 1 if next_slot <= claimed_at else 0)  # a slot within the grace runs as on time
        after = [e for e in everything[stopped_runs[policy] :] if e["status"] != "missed"]
        caught_up = [e for e in after if parse(e["scheduledFor"]) <= claimed_at]
        assert len(caught_up) == runs, (policy, everything)
        assert [parse(e["scheduledFor"]) for e in caught_up] == [next_slot][:runs], (
            f"{policy}: run_once runs the last missed slot, or the one within the grace"
        )
        assert len(after) <= runs + 1, f"{policy}: missed slots were not queued up"
        assert missed["missedCount"] >= 2 - runs, f"{policy}: 7 s without a daemon: at least 3 slots of 2 s"


def test_sigterm_lets_short_runs_finish_and_stops_long_ones(service: Service, fast_lease: DaemonFactory) -> None:
    short = shell_job(service, "short", "sleep 0.8; echo done", scheduleConfig={"hours": 1})
    long = shell_job(service, "long", "sleep 30", scheduleConfig={"hours": 1})
    daemon = fast_lease.start()
    short_id = service.trigger_job(short["id"])["executionId"]
    long_id = service.trigger_job(long["id"])["executionId"]
    wait_for(lambda: service.get_execution(long_id)["status"] == "running", timeout=5, what="runs to start")
    begun = time.monotonic()
    assert daemon.stop(timeout=20) == 0
    assert time.monotonic() - begun < 10
    assert service.get_execution(short_id)["status"] == "success"
    stopped = service.get_execution(long_id)
    assert stopped["status"] == "failed" and "stopped by daemon shutdown" in stopped["errorMessage"]
    assert all(e["status"] not in ("running", "pending") for e in service.list_executions(per_page=100)["executions"])
    by_status: dict[str, int] = defaultdict(int)
    for entry in service.list_executions(per_page=100)["executions"]:
        by_status[entry["status"]] += 1
    assert by_status == {"success": 1, "failed": 1}


def test_a_run_finishing_in_its_stopping_daemons_grace_is_not_taken_for_abandoned(
    service: Service, daemons: DaemonFactory, tmp_path: Path
) -> None:
    """A stopped daemon lets its runs finish for ``shutdown_grace_seconds`` (30 s by default),
    longer than the lease TTL (15 s). It stopped heartbeating as soon as it began to stop, so the
    new leader's reaper finished a run still going on as failed ("abandoned: the daemon running it
    ... stopped heartbeating; outcome unknown"), and the run's real outcome was lost."""
    daemons.config_path = write_config(tmp_path / "grace.toml", lease_ttl_seconds=TTL, shutdown_grace_seconds=20)
    job = shell_job(service, "long", "sleep 6; echo done", scheduleConfig={"hours": 1})
    first = daemons.start()
    second = daemons.start()
    leader = the_leader(service, [first, second])
    standby = second if leader is first else first
    execution_id = service.trigger_job(job["id"])["executionId"]
    wait_for(lambda: service.get_execution(execution_id)["status"] == "running", timeout=5, what="the run to start")
    leader.signal(signal.SIGTERM)
    wait_for(lambda: leader_pid(service) == standby.pid, timeout=5, what="the standby to lead")
    assert leader.proc.wait(timeout=20) == 0
    run = service.get_execution(execution_id)
    assert (run["status"], run["errorMessage"]) == ("success", None)
    assert "orphaned" not in standby.log()
    assert leader.pid not in {i["pid"] for i in service.get_status()["instances"]}


def test_a_frozen_daemon_that_resumes_leaves_the_abandoned_record_of_its_run_and_says_so(
    service: Service, fast_lease: DaemonFactory, tmp_path: Path
) -> None:
    """A leader stopped (SIGSTOP) while its run goes on: the new leader records the run failed,
    abandoned. Resumed after the run ended well, the old leader logged "stopping execution X:
    its execution no longer exists (its job was deleted)" and then "run finished: ... success",
    both untrue. It leaves the record as it is, and says what happened."""
    started, done = tmp_path / "started", tmp_path / "done"
    job = shell_job(service, "short", f"touch {started}; sleep 5; touch {done}", scheduleConfig={"hours": 1})
    first = fast_lease.start()
    second = fast_lease.start()
    leader = the_leader(service, [first, second])
    execution_id = service.trigger_job(job["id"])["executionId"]
    wait_for(lambda: service.get_execution(execution_id)["status"] == "running", timeout=5, what="the run to start")
    # the record says running a moment before the process is there: stopped in between, the
    # daemon would never start it
    wait_for(started.exists, timeout=5, what="the run's process to start")
    leader.signal(signal.SIGSTOP)
    try:
        run = wait_for(
            lambda: (e := service.get_execution(execution_id))["status"] == "failed" and e,
            timeout=TTL + 6,
            what="the new leader to take the run for abandoned",
        )
        assert run["errorMessage"].startswith("abandoned: the daemon running it"), run
        wait_for(done.exists, timeout=10, what="the run's process to end")
        time.sleep(0.5)
    finally:
        leader.signal(signal.SIGCONT)
    said = (
        f"execution {execution_id} was recorded as abandoned by another daemon while this one was not heard from;"
        " its outcome here (success, exit 0) is not recorded"
    )
    wait_for(lambda: said in leader.log(), timeout=10, what="the resumed daemon to say what became of its run")
    assert "run finished: job short" not in leader.log(), leader.log()
    assert "its execution no longer exists" not in leader.log(), leader.log()
    after = service.get_execution(execution_id)
    assert (after["status"], after["errorMessage"]) == ("failed", run["errorMessage"])
    assert service.get_job(job["id"])["lastStatus"] != "success"


def test_a_cancel_of_a_run_whose_daemon_was_killed_records_it_cancelled(
    service: Service, daemons: DaemonFactory, tmp_path: Path
) -> None:
    """The daemon running a run is killed (SIGKILL) and the run cancelled right after: the new
    leader's reaper recorded it ``failed`` (abandoned) while the cancel waited, leaving
    ``cancelledBy`` on a failed row, and the command printed "ended failed before it could be
    stopped", exit 0. A marked run whose outcome is not success is ``cancelled``, the reaper's
    record too (docs/cancelling-runs.md)."""
    daemons.config_path = write_config(tmp_path / "ttl.toml", lease_ttl_seconds=TTL, kill_grace_seconds=5)
    marker = unique_sleep()
    job = shell_job(service, "long", f"sleep {marker}", scheduleConfig={"hours": 1})
    first = daemons.start()
    second = daemons.start()
    leader = the_leader(service, [first, second])
    execution_id = service.trigger_job(job["id"])["executionId"]
    wait_for(lambda: service.get_execution(execution_id)["status"] == "running", timeout=5, what="the run to start")
    leader.signal(signal.SIGKILL)
    leader.proc.wait(timeout=10)
    result = cli(daemons, "executions", "cancel", execution_id)  # waits up to the kill grace + 3 s = 8 s
    assert result.returncode == 0, result
    run = service.get_execution(execution_id)
    who = f"the daemon running it ({socket.gethostname()} pid {leader.pid})"
    me = f"local:{pwd.getpwuid(os.getuid()).pw_name}"
    assert (run["status"], run["cancelledBy"]) == ("cancelled", me), run
    error = f"cancelled by {me}; abandoned: {who} stopped heartbeating before it confirmed the stop"
    assert run["errorMessage"] == error
    assert result.stdout == f"Cancelled execution {execution_id}: {error}\n"
    wait_for(
        lambda: subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True).returncode == 1,
        timeout=8,
        what="the dead daemon's watchdog to kill the run's process",
    )
