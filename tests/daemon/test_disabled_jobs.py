"""A disabled job gets no runs at all, not even a retry that was already waiting (real daemon, real store).

A paused job keeps its retries: pausing stops scheduled runs, and a retry belongs to a run
that already started (docs/disabled-jobs.md).
"""

from __future__ import annotations

import time
from typing import Any

from jobctl.service import Service
from jobctl.store import Store
from tests.daemon.helpers import DaemonFactory, executions, shell_job, wait_for

RETRY_DELAY = 3


def failing_job_with_a_waiting_retry(service: Service, daemons: DaemonFactory) -> tuple[str, dict[str, Any]]:
    """A job whose first attempt failed and whose second waits ``RETRY_DELAY`` seconds."""
    job = shell_job(service, "flaky", "echo attempt; exit 3", retryCount=2, retryDelaySeconds=RETRY_DELAY,
                    scheduleConfig={"hours": 1})  # fmt: skip
    daemons.start()
    service.trigger_job(job["id"])

    def waiting_retry() -> dict[str, Any] | None:
        runs = executions(service, job["id"])
        return runs[1] if len(runs) == 2 and runs[0]["status"] == "failed" else None

    retry = wait_for(waiting_retry, timeout=10, what="the first attempt to fail and queue a retry")
    assert (retry["status"], retry["attempt"], retry["triggeredBy"]) == ("pending", 2, "retry")
    return job["id"], retry


def test_disabling_ends_a_waiting_retry_at_once_and_it_never_runs(service: Service, daemons: DaemonFactory) -> None:
    job_id, retry = failing_job_with_a_waiting_retry(service, daemons)
    service.set_job_status(job_id, {"isEnabled": False})

    skipped = service.get_execution(retry["id"])
    assert skipped["status"] == "skipped"
    assert skipped["errorMessage"] == "job disabled by tester before the retry was due"
    assert skipped["startedAt"] is None and skipped["completedAt"] is not None
    time.sleep(RETRY_DELAY + 2)
    runs = executions(service, job_id)
    assert [(run["attempt"], run["status"]) for run in runs] == [(1, "failed"), (2, "skipped")]
    assert runs[1]["instanceId"] is None and runs[1]["startedAt"] is None
    assert service.get_execution_log(retry["id"])["data"] == ""


def test_a_retry_of_a_job_disabled_behind_the_services_back_is_skipped_by_the_daemon(
    service: Service, store: Store, daemons: DaemonFactory
) -> None:
    """The daemon's own check: a retry queued while the job was being disabled must not run either."""
    job_id, retry = failing_job_with_a_waiting_retry(service, daemons)
    with store.transaction():
        # what a racing disable leaves: a pending retry
        store.db.execute("UPDATE jobs SET is_enabled = :no WHERE id = :id", {"no": False, "id": job_id})
        store.cluster.bump_generation()
    assert service.get_execution(retry["id"])["status"] == "pending"

    ended = wait_for(lambda: service.get_execution(retry["id"])["status"] != "pending" or None,
                     timeout=RETRY_DELAY + 5, what="the daemon to deal with the retry")  # fmt: skip
    assert ended
    time.sleep(1)
    runs = executions(service, job_id)
    assert [(run["attempt"], run["status"]) for run in runs] == [(1, "failed"), (2, "skipped")]
    assert runs[1]["errorMessage"] == "job disabled before the retry was due"
    assert runs[1]["startedAt"] is None and runs[1]["instanceId"] is None


def test_a_paused_job_keeps_its_retries(service: Service, daemons: DaemonFactory) -> None:
    job_id, retry = failing_job_with_a_waiting_retry(service, daemons)
    service.set_job_status(job_id, {"isPaused": True})
    assert service.get_execution(retry["id"])["status"] == "pending"

    def all_attempts_done() -> list[dict[str, Any]] | None:
        runs = executions(service, job_id)
        return runs if len(runs) == 3 and all(run["status"] == "failed" for run in runs) else None

    runs = wait_for(all_attempts_done, timeout=2 * RETRY_DELAY + 10, what="both retries to run")
    assert [(run["attempt"], run["triggeredBy"]) for run in runs] == [(1, "manual"), (2, "retry"), (3, "retry")]
    assert service.get_job(job_id)["isPaused"] is True
