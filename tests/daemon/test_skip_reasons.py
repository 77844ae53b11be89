"""A slot skipped while only a retry waits, with a real daemon: the reason says a retry holds the
place (no run is active), alike in the API's ``errorMessage``, ``jobs why`` (its "retry at" in
the job's zone, as ``why`` shows every instant) and the listing, which claims no start for the
waiting retry."""

from __future__ import annotations

from datetime import UTC, datetime

from jobctl.service import Service
from tests.daemon.helpers import DaemonFactory, cli, executions, shell_job, wait_for


def test_a_slot_skipped_while_a_retry_waits_says_the_retry_holds_it(daemons: DaemonFactory, service: Service) -> None:
    job = shell_job(service, "hc", "exit 1", scheduleConfig={"seconds": 2}, retryCount=1, retryDelaySeconds=30)
    daemons.start()
    runs = wait_for(
        lambda: (found := executions(service, job["id"])) and found[-1]["status"] == "skipped" and found,
        timeout=20,
        what="a skipped slot",
    )
    by_status = {run["status"]: run for run in runs}
    assert "running" not in by_status, "nothing runs: only the retry waits"
    retry = by_status["pending"]
    assert retry["triggeredBy"] == "retry" and retry["pendingReason"].startswith("retry at "), retry
    why = f"a retry of this job waits ({retry['pendingReason']}) and maxInstances is 1"
    assert by_status["skipped"]["errorMessage"] == f"skipped: {why}"

    timeline = cli(daemons, "jobs", "why", "hc", "--since", "10m")
    assert timeline.returncode == 0, timeline.stderr
    retry_at = datetime.fromisoformat(retry["pendingReason"].removeprefix("retry at ").replace("Z", "+00:00"))
    shown = f"{retry_at:%H:%M:%S}" if retry_at.date() == datetime.now(UTC).date() else f"{retry_at:%Y-%m-%d %H:%M:%S}"
    local_why = f"a retry of this job waits (retry at {shown}) and maxInstances is 1"  # the job's zone: UTC
    assert f"skipped: {local_why}" in timeline.stdout, timeline.stdout
    assert "still active" not in timeline.stdout and "skipped: skipped:" not in timeline.stdout

    listed = cli(daemons, "executions", "list", "--job", "hc")
    header, *rows = listed.stdout.splitlines()
    [pending] = [row for row in rows if row.startswith(retry["id"][:8])]
    started = pending[header.index("STARTED") : header.index("DURATION")].strip()
    assert started == "-", f"a retry waiting to start claims no start:\n{listed.stdout}"
