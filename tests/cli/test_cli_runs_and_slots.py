"""Runs and slots apart in the CLI: ``executions tail JOB`` shows runs that started, however many
skipped slots came after them, and ``executions list`` claims a start only for what started."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from jobctl.models import Execution, ExecutionStatus, Job, TriggeredBy
from jobctl.service import Service
from jobctl.store import Store, open_store
from jobctl.store.writes import NewExecution
from tests.conftest import ADMIN, TEST_ZONE, Cli

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
SECOND = timedelta(seconds=1)


@pytest.fixture
def local(store_url: str) -> Iterator[tuple[Store, Job]]:
    store = open_store(store_url)
    service = Service(store, ADMIN, default_timezone=TEST_ZONE)
    created = service.create_job({"name": "slow", "taskFunctionId": 1, "jobTypeId": 1,
                                  "scheduleConfig": {"seconds": 1}, "taskArgs": {"command": "true"}})  # fmt: skip
    job = store.jobs.get(created["id"])
    assert job is not None
    yield store, job
    store.close()


def ran(
    store: Store, job: Job, at: datetime, output: str, status: ExecutionStatus = ExecutionStatus.SUCCESS
) -> Execution:
    """A run of the slot ``at`` that started then and printed ``output``."""
    new = NewExecution(job_id=job.id, status=status, triggered_by=TriggeredBy.SCHEDULER, created_at=at,
                       scheduled_for=at, started_at=at, completed_at=at + SECOND)  # fmt: skip
    execution = store.executions.insert(new)
    assert execution is not None
    store.executions.append_output(execution.id, 0, output)
    return execution


def skipped(store: Store, job: Job, first: datetime, count: int) -> None:
    busy = "1 run(s) still active and maxInstances is 1"
    store.executions.insert_many(
        [NewExecution.skipped_slot(job, first + n * SECOND, now=first + n * SECOND, reason=busy) for n in range(count)]
    )


def test_tail_of_a_job_finds_its_runs_below_hundreds_of_skipped_slots(cli: Cli, local: tuple[Store, Job]) -> None:
    """The newest 100 executions are all skipped slots: the runs are on later pages."""
    store, job = local
    older = ran(store, job, T0, "first run\n", ExecutionStatus.FAILED)
    newer = ran(store, job, T0 + 10 * SECOND, "second run\n")
    skipped(store, job, T0 + 11 * SECOND, 250)
    gap = NewExecution.missed_range(job, first=T0 + 300 * SECOND, last=T0 + 310 * SECOND, count=11,
                                    now=T0 + 311 * SECOND, reason="no daemon was leading")  # fmt: skip
    store.executions.insert(gap)

    plain = cli("executions", "tail", "slow")
    assert (plain.code, plain.stdout, plain.stderr) == (0, "second run\n", "")
    both = cli("executions", "tail", "slow", "-n", "2")
    assert (both.code, both.stdout) == (0, "first run\nsecond run\n")
    headers = [line for line in both.stderr.splitlines() if line.startswith("==> ")]
    assert [line.split()[1] for line in headers] == [older.id[:8], newer.id[:8]], both.stderr
    assert "skipped" not in both.stderr and "missed" not in both.stderr and "started -" not in both.stderr
    everything = cli("executions", "tail", "-n", "5")  # every job's: the same two runs
    assert (everything.code, everything.stdout) == (0, "first run\nsecond run\n")


def test_the_started_column_claims_no_start_for_a_run_waiting_to_start(cli: Cli, local: tuple[Store, Job]) -> None:
    """A waiting retry showed its failed run's slot as STARTED; a skipped slot shows its slot
    (its status says it did not run); a run shows when it started."""
    store, job = local
    failed = ran(store, job, T0, "boom\n", ExecutionStatus.FAILED)
    retry = store.executions.insert(NewExecution.retry_of(failed, now=T0 + SECOND, run_after=T0 + 31 * SECOND))
    assert retry is not None
    skipped(store, job, T0 + 5 * SECOND, 1)
    listed = cli("executions", "list", "--job", "slow")
    assert listed.code == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    column = slice(header.index("STARTED"), header.index("DURATION"))

    def started(status: str) -> str:
        [row] = [row for row in rows if f" {status} " in row]
        return row[column].strip()

    local_time = "%Y-%m-%d %H:%M:%S"
    assert started("pending") == "-", listed.stdout
    assert started("failed") == T0.astimezone().strftime(local_time)
    assert started("skipped") == (T0 + 5 * SECOND).astimezone().strftime(local_time)
    [pending_row] = [row for row in rows if " pending " in row]
    assert "waiting: retry at " in pending_row, "when it is due is in the ERROR column"
