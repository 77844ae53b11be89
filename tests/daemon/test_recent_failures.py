"""``jobctl top``'s recent failures with a real daemon: a long run that has just failed is listed
first, above the quick failures that ended while it ran (they are newest by end, not by start)."""

from __future__ import annotations

import json

from jobctl.service import Service
from tests.daemon.helpers import DaemonFactory, cli, executions, shell_job, wait_for


def test_a_long_run_that_has_just_failed_is_the_first_recent_failure(daemons: DaemonFactory, service: Service) -> None:
    long_job = shell_job(service, "long-backup", "sleep 3; echo disk full >&2; exit 1", scheduleConfig={"hours": 1})
    quick_job = shell_job(service, "quick", "exit 2", scheduleConfig={"hours": 1}, maxInstances=30)
    daemons.start()
    long_run = service.trigger_job(long_job["id"])["executionId"]
    wait_for(lambda: service.get_execution(long_run)["status"] == "running", timeout=10, what="the long run")
    for _ in range(21):  # more than top lists, all started (and ended) after the long run started
        service.trigger_job(quick_job["id"])
    wait_for(
        lambda: [run["status"] for run in executions(service, quick_job["id"])] == ["failed"] * 21,
        timeout=20,
        what="21 quick failures",
    )
    assert service.get_execution(long_run)["status"] == "running", "the quick runs ended while it ran"
    wait_for(lambda: service.get_execution(long_run)["status"] == "failed", timeout=10, what="the long run's end")

    shown = cli(daemons, "top", "--json")
    assert shown.returncode == 0, shown.stderr
    failures = json.loads(shown.stdout)["recentFailures"]
    assert len(failures) == 20
    assert (failures[0]["executionId"], failures[0]["jobName"]) == (long_run, "long-backup"), failures[:2]
    ends = [failure["completedAt"] for failure in failures]
    assert ends == sorted(ends, reverse=True), "newest by end first"

    snapshot = cli(daemons, "top").stdout.splitlines()
    first = snapshot[snapshot.index("RECENT FAILURES") + 2]
    assert first.split()[:2] == ["long-backup", "failed"] and first.endswith("exit code 1: disk full"), first
